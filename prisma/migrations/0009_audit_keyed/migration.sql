-- A keyed audit chain anchored outside its table.
--
-- "format" says how an entry's hash was made: 1 = unkeyed SHA-256 (every
-- entry written before this migration), 2 = HMAC-SHA256 under the audit key
-- (VIGIL_AUDIT_KEY or .vigil/audit.key), which the database never holds.
-- The default stays 1: a row written without a format (an older process
-- still running during an upgrade) is a legacy row, and verifies as one.
ALTER TABLE "AuditEntry" ADD COLUMN "format" INTEGER NOT NULL DEFAULT 1;

-- The head of the chain: the last entry's seq and hash and the number of
-- entries, MACed with the audit key and updated in the transaction of every
-- append, so deleting the last entries or truncating the table shows.
CREATE TABLE "AuditHead" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "chainId" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "count" BIGINT NOT NULL,
    "legacyThrough" BIGINT NOT NULL,
    "mac" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditHead_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "AuditHead_single_row" CHECK ("id" = 1)
);

-- Over an existing (legacy) chain: an unsigned placeholder, since SQL has no
-- key to sign with. The first keyed append replaces it with a signed head.
-- An empty table gets no row: the first append creates it.
INSERT INTO "AuditHead" ("id", "chainId", "seq", "hash", "count", "legacyThrough", "mac")
SELECT 1, gen_random_uuid()::text, last."seq", last."hash", (SELECT COUNT(*) FROM "AuditEntry"), last."seq", NULL
FROM (SELECT "seq", "hash" FROM "AuditEntry" ORDER BY "seq" DESC LIMIT 1) AS last;
