-- When each recurring job (a BullMQ job scheduler, by its id) last ran. Kept in
-- PostgreSQL, not Redis: a Redis that lost its data loses the schedules too, and
-- self-monitoring must still see that they stopped running (docs/faults.md,
-- "Self-healing schedules"). Written by whichever worker ran the job.
CREATE TABLE "RecurringJobRun" (
    "schedulerId" TEXT PRIMARY KEY,
    "lastRunAt" TIMESTAMPTZ(3) NOT NULL
);
