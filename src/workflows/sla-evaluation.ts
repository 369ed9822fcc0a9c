import type { Logger } from 'pino';
import type { Anomaly, Detector, Sla, Stream } from '../generated/prisma/client.ts';
import { newId } from '../core/ids.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { incidentPolicyOf } from '../services/detectors.ts';
import { groupAnomalies, type GroupingResult } from '../incidents/writer.ts';
import { silenceFor, silenceSpecOf } from '../stream/maintenance-silences.ts';
import type { Services } from '../services/container.ts';
import { serializeAnomaly } from '../stream/serialize.ts';
import { boundsOf, breachScore, judge, metricOf, type SlaJudgement, type SlaMeasurements } from './sla-judge.ts';

export type SlaRow = Sla & { stream: Stream; detector: Detector | null };

export type SlaOutcome = 'met' | 'breached' | 'still-breached' | 'recovered' | 'skipped';

export interface SlaEvaluationSummary {
  evaluated: number;
  breached: string[];
  recovered: string[];
  failed: number;
}

const OPEN = { in: ['OPEN' as const, 'ACKNOWLEDGED' as const] };

/**
 * Evaluates SLAs (a scheduled BullMQ job, see runner.ts): measures, judges
 * (sla-judge.ts) and records `met`, `current` and `evaluatedAt` every time.
 * Only a change of state writes more: met -> breached records an anomaly of
 * the SLA's companion detector (its lineage names the SLA) and groups it into
 * an incident like any other, runbooks included; breached -> met resolves the
 * SLA's open incidents. A state change is a compare-and-set on the Sla row in
 * the same transaction, so two evaluators never record one breach twice. A
 * breach whose incident was resolved by hand while the SLA is still broken
 * is raised again (the incident reopens within its flap window).
 */
export class SlaEvaluator {
  constructor(
    private readonly services: Services,
    private readonly log: Logger,
    /** Called with the runbook executions a breach wrote (the outbox), to relay them at once. */
    private readonly onExecutionsPlanned: (executionIds: string[]) => void = () => undefined,
  ) {}

  /** Every SLA of an accepted, ACTIVE stream (a paused stream is not judged: its SLAs keep their state); archived ones are not judged at all. */
  async evaluateAll(acceptsStream: (streamName: string) => boolean): Promise<SlaEvaluationSummary> {
    const slas = await this.services.ports.db.sla.findMany({
      where: { archivedAt: null, stream: { archivedAt: null } },
      include: { stream: true, detector: true },
      orderBy: { id: 'asc' },
    });
    const summary: SlaEvaluationSummary = { evaluated: 0, breached: [], recovered: [], failed: 0 };
    for (const sla of slas) {
      if (!acceptsStream(sla.stream.name) || sla.stream.status !== 'ACTIVE') continue;
      try {
        const outcome = await this.evaluate(sla);
        summary.evaluated++;
        if (outcome === 'breached') summary.breached.push(sla.id);
        if (outcome === 'recovered') summary.recovered.push(sla.id);
      } catch (error) {
        // One SLA that cannot be measured must not stop the others.
        summary.failed++;
        this.log.warn({ sla: sla.id, err: error }, 'SLA evaluation failed');
      }
    }
    return summary;
  }

  async evaluate(sla: SlaRow, now = new Date()): Promise<SlaOutcome> {
    const judged = judge(sla.objective, sla.threshold, await this.measure(sla, now));
    if (sla.met && !judged.met) return (await this.breach(sla, judged, now)) ? 'breached' : 'skipped';
    if (!sla.met && judged.met) return (await this.recover(sla, judged, now)) ? 'recovered' : 'skipped';
    const { db } = this.services.ports;
    // Guarded by the state read: an evaluator that just changed it is not overwritten.
    const updated = await db.sla.updateMany({ where: { id: sla.id, met: judged.met }, data: { current: judged.current, evaluatedAt: now } });
    if (updated.count === 0) return 'skipped';
    if (judged.met) return 'met';
    // Still breached: the incident stays alive (the quiet-period sweep would otherwise resolve it while the SLA is broken).
    const alive = await db.incident.updateMany({ where: { status: OPEN, anomalies: { some: { slaId: sla.id } } }, data: { lastSeenAt: now } });
    if (alive.count > 0) return 'still-breached';
    // No open incident holds the breach (someone resolved it while the SLA is still broken): raise it again.
    return (await this.breach(sla, judged, now, 'again')) ? 'breached' : 'still-breached';
  }

  /** What the objective needs, no more. */
  private async measure(sla: SlaRow, now: Date): Promise<SlaMeasurements> {
    const { stats, health, ports } = this.services;
    const base: SlaMeasurements = { now, stream: sla.stream.name, sla: sla.name, windowSeconds: sla.windowSeconds };
    switch (sla.objective) {
      case 'FRESHNESS': {
        const { lastEventAt } = await stats.window(sla.streamId, 1, now.getTime());
        return { ...base, lastEventAt, slaCreatedAt: sla.createdAt };
      }
      case 'INGESTION_LAG':
        // Throws while Kafka cannot be reached: the SLA keeps its state rather than reading a lag of 0 as met.
        return { ...base, ingestionLag: await health.ingestionLag(sla.stream) };
      case 'ERROR_RATE':
      case 'COMPLETENESS': {
        const window = await stats.window(sla.streamId, sla.windowSeconds, now.getTime());
        return { ...base, events: window.events, deadLetters: window.deadLetters };
      }
      case 'ANOMALY_RATE': {
        const window = await stats.window(sla.streamId, sla.windowSeconds, now.getTime());
        // Distinct events, so an event two detectors flag counts once; SLA breaches and SHADOW detectors do not count.
        const [row] = await ports.db.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM (
            SELECT DISTINCT "topic", "partition", "offset" FROM "Anomaly"
            WHERE "streamId" = ${sla.streamId} AND "detectedAt" >= ${window.since} AND "shadow" = false AND "slaId" IS NULL
          ) AS anomalous`;
        return { ...base, events: window.events, anomalousEvents: row?.n ?? 0 };
      }
    }
  }

  /**
   * Records a breach as an anomaly of the SLA's companion detector, grouped
   * into an incident in the same transaction. `new`: the SLA turns from met
   * to breached (a compare-and-set, so two evaluators record it once).
   * `again`: it was already breached but no open incident holds it any more;
   * under a lock per SLA, so two evaluators raise it once.
   */
  private async breach(sla: SlaRow, judged: SlaJudgement, now: Date, mode: 'new' | 'again' = 'new'): Promise<boolean> {
    const { db } = this.services.ports;
    const detector = sla.detector ?? (await this.services.slas.companion(sla.id));
    const current = judged.current ?? 0;
    const committed = await db.$transaction(async (tx): Promise<{ anomaly: Anomaly; grouped: GroupingResult } | null> => {
      if (mode === 'new') {
        const flipped = await tx.sla.updateMany({ where: { id: sla.id, met: true }, data: { met: false, current, evaluatedAt: now } });
        if (flipped.count !== 1) return null;
      } else {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`sla/${sla.id}`}))`;
        const broken = await tx.sla.count({ where: { id: sla.id, met: false } });
        const open = await tx.incident.count({ where: { status: OPEN, anomalies: { some: { slaId: sla.id } } } });
        if (broken !== 1 || open > 0) return null;
      }
      // A silence of the stream (or of this SLA's companion detector) holding now, matched by the workers'
      // rule (a breach has no series): the breach is recorded with it and opens no incident. Raised again
      // only once the silence is over, if still broken.
      const silences = await tx.silence.findMany({ where: { streamId: sla.streamId, endsAt: { gt: now } }, orderBy: { id: 'asc' } });
      const silenceId = silenceFor(silences.map(silenceSpecOf), detector.id, null, now.getTime());
      if (silenceId && mode === 'again') return null;
      const anomaly = await tx.anomaly.create({
        data: {
          id: newId('Anomaly'),
          streamId: sla.streamId,
          detectorId: detector.id,
          detectorVersion: detector.currentVersion,
          seriesKey: null,
          field: metricOf(sla.objective),
          value: current,
          score: breachScore(sla.threshold, current),
          expected: null,
          ...boundsOf(sla.objective, sla.threshold),
          severity: sla.severity,
          shadow: false,
          eventTime: now,
          explanation: judged.explanation,
          // The "event" is the evaluation: no Kafka message, so partition -1 and the time in ms keep each breach unique.
          topic: sla.stream.topic,
          partition: -1,
          offset: BigInt(now.getTime()),
          eventKey: null,
          eventTimestamp: now,
          schemaVersion: sla.stream.schemaVersion,
          traceparent: null,
          slaId: sla.id,
          silenceId,
        },
      });
      const grouped = await groupAnomalies(tx, [anomaly], {
        policyOf: () => incidentPolicyOf(detector),
        describe: () => ({ stream: sla.stream.name, detector: detector.name }),
        describeDetector: () => ({ streamId: sla.stream.id, streamName: sla.stream.name, detectorName: detector.name }),
        now,
      });
      return { anomaly, grouped };
    });
    if (!committed) return false;
    this.log.info(
      { sla: sla.id, current, incidents: [...committed.grouped.incidentIds] },
      `${mode === 'new' ? 'SLA breached' : 'SLA still breached with no open incident, raised again'}: ${judged.explanation}`,
    );
    const { pubsub } = this.services;
    await Promise.all([
      pubsub.publish(CHANNELS.anomalies, serializeAnomaly(committed.anomaly)),
      ...[...committed.grouped.incidentIds].map((id) => pubsub.publish(CHANNELS.incidents, { id })),
    ]);
    if (committed.grouped.executionIds.length > 0) this.onExecutionsPlanned(committed.grouped.executionIds);
    return true;
  }

  private async recover(sla: SlaRow, judged: SlaJudgement, now: Date): Promise<boolean> {
    const { db } = this.services.ports;
    const resolved = await db.$transaction(async (tx) => {
      const flipped = await tx.sla.updateMany({ where: { id: sla.id, met: false }, data: { met: true, current: judged.current, evaluatedAt: now } });
      if (flipped.count !== 1) return null;
      const open = await tx.incident.findMany({ where: { status: OPEN, anomalies: { some: { slaId: sla.id } } }, select: { id: true } });
      for (const { id } of open) {
        await tx.incident.update({
          where: { id },
          data: {
            status: 'RESOLVED',
            resolvedAt: now,
            timeline: { create: { at: now, kind: 'SLA_MET', message: `SLA met again: ${judged.explanation}`, actor: 'vigil' } },
          },
        });
      }
      return open.map((i) => i.id);
    });
    if (!resolved) return false;
    this.log.info({ sla: sla.id, current: judged.current, resolved }, `SLA met again: ${judged.explanation}`);
    await Promise.all(resolved.map((id) => this.services.pubsub.publish(CHANNELS.incidents, { id })));
    return true;
  }
}
