-- Commit positions: the order in which changes to anomalies, incidents and
-- runbook executions became visible, so a subscription can resume after the
-- last item it delivered without a gap or a duplicate (docs/faults.md,
-- "Subscriptions that resume").
--
-- Ids and sequences are drawn when a row is written, not when it commits: two
-- transactions commit in the other order often enough (two partitions of a
-- worker), and a cursor past the later id would skip the earlier one for
-- good. So every writing transaction records one row here as it commits,
-- holding a lock from that moment to the end of its commit: a reader that
-- sees position n sees every position below it.
--
-- Not in schema.prisma: Prisma has no xid8 type, and nothing but
-- src/resolvers/commit-positions.ts reads these columns.

CREATE TABLE "ChangeCommit" (
    "seq" BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "xid" xid8 NOT NULL UNIQUE,
    "committedAt" TIMESTAMP(3) NOT NULL DEFAULT clock_timestamp()
);

-- The transaction that last changed the row. Rows older than this migration
-- have none: they have no position and are never replayed.
ALTER TABLE "Anomaly" ADD COLUMN "changeXid" xid8;
ALTER TABLE "Anomaly" ALTER COLUMN "changeXid" SET DEFAULT pg_current_xact_id();
ALTER TABLE "Incident" ADD COLUMN "changeXid" xid8;
ALTER TABLE "Incident" ALTER COLUMN "changeXid" SET DEFAULT pg_current_xact_id();
ALTER TABLE "RunbookExecution" ADD COLUMN "changeXid" xid8;
ALTER TABLE "RunbookExecution" ALTER COLUMN "changeXid" SET DEFAULT pg_current_xact_id();
CREATE INDEX "Anomaly_changeXid_idx" ON "Anomaly"("changeXid");
CREATE INDEX "Incident_changeXid_idx" ON "Incident"("changeXid");
CREATE INDEX "RunbookExecution_changeXid_idx" ON "RunbookExecution"("changeXid");

-- Runs at commit (deferred), once per transaction whatever the number of rows.
CREATE FUNCTION vigil_record_change_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    me xid8 := pg_current_xact_id();
BEGIN
    IF current_setting('vigil.change_commit', true) = me::text THEN
        RETURN NULL;
    END IF;
    -- Released only once this transaction is visible: the next writer's seq is
    -- drawn after that, so seq order is visibility order.
    PERFORM pg_advisory_xact_lock(1986619753, 1);
    INSERT INTO "ChangeCommit" ("xid") VALUES (me) ON CONFLICT ("xid") DO NOTHING;
    PERFORM set_config('vigil.change_commit', me::text, true);
    RETURN NULL;
END $$;

-- An update is a change of what a subscriber sees; the outbox marker of an
-- execution (enqueuedAt) is not one.
CREATE FUNCTION vigil_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW."changeXid" IS DISTINCT FROM OLD."changeXid"
       OR (to_jsonb(NEW) - 'changeXid' - 'enqueuedAt') IS DISTINCT FROM (to_jsonb(OLD) - 'changeXid' - 'enqueuedAt') THEN
        NEW."changeXid" := pg_current_xact_id();
    END IF;
    RETURN NEW;
END $$;

-- A new timeline entry changes its incident; a step changes its execution.
CREATE FUNCTION vigil_touch_incident() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "Incident" SET "changeXid" = pg_current_xact_id()
     WHERE "id" = NEW."incidentId" AND "changeXid" IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END $$;

CREATE FUNCTION vigil_touch_execution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "RunbookExecution" SET "changeXid" = pg_current_xact_id()
     WHERE "id" = NEW."executionId" AND "changeXid" IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END $$;

CREATE TRIGGER "Incident_mark_change" BEFORE UPDATE ON "Incident"
    FOR EACH ROW EXECUTE FUNCTION vigil_mark_change();
CREATE TRIGGER "RunbookExecution_mark_change" BEFORE UPDATE ON "RunbookExecution"
    FOR EACH ROW EXECUTE FUNCTION vigil_mark_change();
CREATE TRIGGER "IncidentEvent_touch_incident" AFTER INSERT ON "IncidentEvent"
    FOR EACH ROW EXECUTE FUNCTION vigil_touch_incident();
CREATE TRIGGER "StepExecution_touch_execution" AFTER INSERT OR UPDATE ON "StepExecution"
    FOR EACH ROW EXECUTE FUNCTION vigil_touch_execution();

CREATE CONSTRAINT TRIGGER "Anomaly_record_commit" AFTER INSERT ON "Anomaly"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION vigil_record_change_commit();
CREATE CONSTRAINT TRIGGER "Incident_record_commit" AFTER INSERT ON "Incident"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION vigil_record_change_commit();
CREATE CONSTRAINT TRIGGER "Incident_record_commit_update" AFTER UPDATE ON "Incident"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW."changeXid" IS DISTINCT FROM OLD."changeXid") EXECUTE FUNCTION vigil_record_change_commit();
CREATE CONSTRAINT TRIGGER "RunbookExecution_record_commit" AFTER INSERT ON "RunbookExecution"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION vigil_record_change_commit();
CREATE CONSTRAINT TRIGGER "RunbookExecution_record_commit_update" AFTER UPDATE ON "RunbookExecution"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW."changeXid" IS DISTINCT FROM OLD."changeXid") EXECUTE FUNCTION vigil_record_change_commit();
