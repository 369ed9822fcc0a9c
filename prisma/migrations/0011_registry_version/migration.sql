-- The registry version workers reload their catalog on, moved here from Redis:
-- bumped in the transaction that changes a stream or detector, it is visible
-- exactly when the change is, and a worker reads it while Redis is down
-- (docs/faults.md, "Redis is not on the detection path"). One row, by construction.
CREATE TABLE "RegistryVersion" (
    "id" BOOLEAN PRIMARY KEY DEFAULT true CHECK ("id"),
    "version" BIGINT NOT NULL DEFAULT 0
);

INSERT INTO "RegistryVersion" ("id", "version") VALUES (true, 0);
