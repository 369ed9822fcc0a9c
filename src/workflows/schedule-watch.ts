import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Db } from '../store/db.ts';
import type { Anomaly, Detector, Stream } from '../generated/prisma/client.ts';
import type { Severity } from '../generated/prisma/enums.ts';
import { newId } from '../core/ids.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { incidentPolicyOf } from '../services/detectors.ts';
import { groupAnomalies } from '../incidents/writer.ts';
import type { Services } from '../services/container.ts';
import { serializeAnomaly } from '../stream/serialize.ts';
import { recurringJobsOf, type RecurringJob } from './schedules.ts';
import { SCHEDULE_DETECTOR_PREFIX, SELF_STREAM_NAME } from '../incidents/self-monitoring-notices.ts';

/** A recurring job that has not run for this many of its intervals raises a self-monitoring incident. */
export const OVERDUE_INTERVALS = 3;

const OPEN = { in: ['OPEN' as const, 'ACKNOWLEDGED' as const] };

/** Called as a recurring job starts. A failure only costs the evidence of one run, never the job. */
export async function recordRecurringRun(db: Db, schedulerId: string, log: Logger, at = new Date()): Promise<void> {
  try {
    await db.$executeRaw`
      INSERT INTO "RecurringJobRun" ("schedulerId", "lastRunAt") VALUES (${schedulerId}, ${at})
      ON CONFLICT ("schedulerId") DO UPDATE SET "lastRunAt" = GREATEST("RecurringJobRun"."lastRunAt", EXCLUDED."lastRunAt")`;
  } catch (error) {
    log.warn({ schedulerId, err: error }, 'could not record a recurring job run');
  }
}

/** How many of its intervals a job has gone without running, counted from the later of its last run and `watchingSince`. */
export function intervalsWithoutRun(everyMs: number, lastRunAt: Date | undefined, watchingSince: Date, now: Date): number {
  const since = Math.max(lastRunAt?.getTime() ?? 0, watchingSince.getTime());
  return Math.max(0, now.getTime() - since) / everyMs;
}

/**
 * Self-monitoring of the recurring jobs this process declares: a job that
 * has not run for OVERDUE_INTERVALS of its intervals raises an incident on
 * the self stream. Only PostgreSQL is read and written, on a process timer
 * (periodic.ts): when Redis is gone, with every schedule and the sampler
 * itself, this still runs. Counting starts when this process started
 * watching, so a job that was not running before does not alarm at once.
 */
export function watchRecurringJobs(services: Services, config: Config, log: Logger): () => Promise<void> {
  const watchingSince = new Date();
  const severityOf = (job: RecurringJob): Severity => (['self-monitor', 'evaluate-slas', 'sweep-incidents'].includes(job.job.name) ? 'CRITICAL' : 'WARNING');
  return async () => {
    const jobs = recurringJobsOf(config).wanted;
    const rows = await services.ports.db.$queryRaw<{ schedulerId: string; lastRunAt: Date }[]>`
      SELECT "schedulerId", "lastRunAt" FROM "RecurringJobRun" WHERE "schedulerId" = ANY(${jobs.map((j) => j.schedulerId)})`;
    const lastRuns = new Map(rows.map((r) => [r.schedulerId, r.lastRunAt]));
    const now = new Date();
    for (const job of jobs) {
      const lastRunAt = lastRuns.get(job.schedulerId);
      const intervals = intervalsWithoutRun(job.everyMs, lastRunAt, watchingSince, now);
      if (intervals < OVERDUE_INTERVALS) continue;
      const last = lastRunAt ? `last run ${lastRunAt.toISOString()}` : `no run since ${watchingSince.toISOString()}`;
      const explanation = `recurring job "${job.schedulerId}" (every ${job.everyMs} ms) has not run for ${intervals.toFixed(1)} of its intervals (${last}); the most allowed is ${OVERDUE_INTERVALS}`;
      await raiseOverdue(services, config, { schedulerId: job.schedulerId, intervals, severity: severityOf(job), explanation }, now, log);
    }
  };
}

interface Overdue {
  schedulerId: string;
  intervals: number;
  severity: Severity;
  explanation: string;
}

/**
 * Records an overdue job as an anomaly of its own detector on the self
 * stream (`schedule:<id>`, THRESHOLD with no bound and DISABLED, as an SLA's
 * companion: no worker runs it), grouped into an incident like any other.
 * While it stays overdue its open incident is kept alive, not raised again;
 * once it runs again the quiet period resolves it. Every watching process
 * may get here at once: a lock per job makes one of them record it.
 */
async function raiseOverdue(services: Services, config: Config, overdue: Overdue, now: Date, log: Logger): Promise<void> {
  const { db } = services.ports;
  const self = await db.stream.findUnique({ where: { name: SELF_STREAM_NAME } });
  if (!self) {
    log.error({ schedulerId: overdue.schedulerId }, `${overdue.explanation}; no incident raised: the self-monitoring stream is not registered`);
    return;
  }
  const name = `${SCHEDULE_DETECTOR_PREFIX}${overdue.schedulerId}`;
  const raised = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`schedule-overdue/${self.id}/${name}`}))`;
    const detector =
      (await tx.detector.findUnique({ where: { streamId_name: { streamId: self.id, name } } })) ??
      (await tx.detector.create({ data: scheduleDetectorData(self, name, overdue.severity, config) }));
    const open = await tx.incident.findFirst({ where: { detectorId: detector.id, status: OPEN }, select: { id: true } });
    if (open) {
      await tx.incident.update({ where: { id: open.id }, data: { lastSeenAt: now } });
      return null;
    }
    const anomaly = await tx.anomaly.create({ data: overdueAnomaly(self, detector, overdue, now) });
    const grouped = await groupAnomalies(tx, [anomaly], {
      policyOf: () => incidentPolicyOf(detector),
      describe: () => ({ stream: self.name, detector: detector.name }),
      describeDetector: () => ({ streamId: self.id, streamName: self.name, detectorName: detector.name }),
      now,
    });
    return { anomaly, grouped };
  });
  if (!raised) return;
  log.error({ schedulerId: overdue.schedulerId, incidents: [...raised.grouped.incidentIds] }, overdue.explanation);
  // Announcing needs Redis, which may be what is gone: the incident is committed either way.
  const { pubsub } = services;
  void Promise.all([
    pubsub.publish(CHANNELS.anomalies, serializeAnomaly(raised.anomaly)),
    ...[...raised.grouped.incidentIds].map((id) => pubsub.publish(CHANNELS.incidents, { id })),
  ]).catch(() => undefined);
}

function scheduleDetectorData(self: Stream, name: string, severity: Severity, config: Config) {
  return {
    id: newId('Detector'),
    streamId: self.id,
    name,
    field: self.valueFields[0] ?? '',
    incidentGroupBy: 'DETECTOR',
    quietPeriodSeconds: config.selfQuietSeconds,
    currentVersion: 1,
    versions: {
      create: { version: 1, kind: 'THRESHOLD' as const, params: { min: null, max: null }, mode: 'DISABLED' as const, severity, createdBy: 'vigil' },
    },
  };
}

function overdueAnomaly(self: Stream, detector: Detector, overdue: Overdue, now: Date): Omit<Anomaly, 'detectedAt' | 'incidentId' | 'label' | 'labelNote' | 'labelledBy'> {
  return {
    id: newId('Anomaly'),
    streamId: self.id,
    detectorId: detector.id,
    detectorVersion: detector.currentVersion,
    seriesKey: null,
    field: 'intervalsWithoutRun',
    value: Math.round(overdue.intervals * 10) / 10,
    score: overdue.intervals / OVERDUE_INTERVALS,
    expected: 1,
    lower: null,
    upper: OVERDUE_INTERVALS,
    severity: overdue.severity,
    shadow: false,
    eventTime: now,
    explanation: overdue.explanation,
    // The "event" is the check: no Kafka message, so partition -1 and the time in ms keep each one unique.
    topic: self.topic,
    partition: -1,
    offset: BigInt(now.getTime()),
    eventKey: null,
    eventTimestamp: now,
    schemaVersion: self.schemaVersion,
    traceparent: null,
    slaId: null,
    silenceId: null,
  };
}
