-- Four eyes: by default the key that requested a runbook execution cannot
-- approve it. A runbook may opt out (allowSelfApproval), and an execution
-- remembers the requesting key's id, since display names are not unique.
ALTER TABLE "Runbook" ADD COLUMN "allowSelfApproval" BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE "RunbookExecution" ADD COLUMN "requestedByKeyId" TEXT;
