/**
 * What the suite reads to judge a scenario: PostgreSQL (the system of record:
 * anomalies, incidents, offsets, executions), the broker's end offsets, and
 * GET /readyz, each polled against a deadline, never slept on.
 */
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { poll, sleep } from './services/proc.ts';
import { isReady } from './vigil.ts';

export interface AnomalyRow {
  id: string;
  streamId: string;
  topic: string;
  partition: number;
  offset: string;
  value: number;
  seriesKeyLength: number;
  eventTime: number;
  detectedAt: number;
}

/** The scenario's database, through a pool that survives PostgreSQL restarts (failed clients are dropped). */
export class ScenarioDb {
  private readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 2000 });
    this.pool.on('error', () => undefined);
  }

  async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  async anomalies(streamIds: string[]): Promise<AnomalyRow[]> {
    const rows = await this.rows<{ id: string; streamId: string; topic: string; partition: number; offset: string; value: number; len: number; et: Date; da: Date }>(
      `SELECT id, "streamId", topic, partition, "offset"::text AS offset, value, coalesce(length("seriesKey"), 0) AS len,
              "eventTime" AS et, "detectedAt" AS da FROM "Anomaly" WHERE "streamId" = ANY($1)`,
      [streamIds],
    );
    return rows.map((r) => ({ ...r, seriesKeyLength: r.len, eventTime: r.et.getTime(), detectedAt: r.da.getTime() }));
  }

  /** Incidents per group key (detector and, grouped by SERIES, series). */
  async incidentsPerGroup(streamIds: string[]): Promise<Map<string, number>> {
    const rows = await this.rows<{ groupKey: string; n: number }>(
      `SELECT "groupKey", count(*)::int AS n FROM "Incident" WHERE "streamId" = ANY($1) GROUP BY "groupKey"`,
      [streamIds],
    );
    return new Map(rows.map((r) => [r.groupKey, r.n]));
  }

  /** Committed next offset per "topic:partition" (offsets of record, written with the effects). */
  async committed(group: string, topics: string[]): Promise<Map<string, bigint>> {
    const rows = await this.rows<{ topic: string; partition: number; next: string }>(
      `SELECT topic, partition, "nextOffset"::text AS next FROM "ConsumerOffset" WHERE "groupId" = $1 AND topic = ANY($2)`,
      [group, topics],
    );
    return new Map(rows.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.next)]));
  }

  /** Changes whenever an offset or an anomaly of the scenario is committed. */
  async commitMark(group: string, topics: string[], streamIds: string[]): Promise<string> {
    const [row] = await this.rows<{ o: string; a: string }>(
      `SELECT (SELECT coalesce(sum("nextOffset"), 0)::text FROM "ConsumerOffset" WHERE "groupId" = $1 AND topic = ANY($2)) AS o,
              (SELECT count(*)::text FROM "Anomaly" WHERE "streamId" = ANY($3)) AS a`,
      [group, topics, streamIds],
    );
    return `${row!.o}/${row!.a}`;
  }

  async executions(): Promise<{ id: string; status: string }[]> {
    return this.rows(`SELECT id, status::text AS status FROM "RunbookExecution" ORDER BY "createdAt"`);
  }

  async deadLetters(streamIds: string[]): Promise<{ partition: number; offset: string; reason: string }[]> {
    return this.rows(`SELECT partition, "offset"::text AS offset, reason FROM "DeadLetter" WHERE "streamId" = ANY($1)`, [streamIds]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** The broker's end offset per "topic:partition". */
export async function endOffsets(brokers: string[], topics: string[]): Promise<Map<string, bigint>> {
  const admin = new Kafka({ clientId: 'vigil-chaos-offsets', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 5000 }).admin();
  await admin.connect();
  try {
    const out = new Map<string, bigint>();
    for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, BigInt(p.high));
    return out;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface Recovery {
  /** Seconds from the fault's end until /readyz answered 200 (undefined: not within the deadline). */
  readySeconds: number | undefined;
  /** Seconds from the fault's end until PostgreSQL held a new offset or anomaly of the scenario. */
  commitSeconds: number | undefined;
}

/**
 * Polls /readyz and PostgreSQL side by side from `faultEnd` (epoch ms). The
 * commit mark is read at the fault's end (retried while PostgreSQL itself
 * comes back), and the first change after it is the first new commit.
 */
export async function measureRecovery(
  target: { port: number; db: ScenarioDb; group: string; topics: string[]; streamIds: string[]; gone: () => boolean },
  faultEnd: number,
  timeoutMs = 60_000,
): Promise<Recovery> {
  const since = (t: number | undefined) => (t === undefined ? undefined : (t - faultEnd) / 1000);
  const mark = () => target.db.commitMark(target.group, target.topics, target.streamIds);
  // A Vigil process that died meanwhile will not recover: stop waiting for it (the scenario reports the exit).
  const ready = poll(async () => (await isReady(target.port)) && Date.now(), timeoutMs, 50, target.gone);
  const commit = (async () => {
    const before = await poll(mark, timeoutMs, 50);
    if (before === undefined) return undefined;
    return poll(async () => (await mark()) !== before && Date.now(), Math.max(0, timeoutMs - (Date.now() - faultEnd)), 50, target.gone);
  })();
  return { readySeconds: since(await ready), commitSeconds: since(await commit) };
}

/**
 * After the traffic stops: waits until every partition's committed offset
 * reaches the broker's end offset; the partitions that do not within the
 * deadline are stalled ("topic:partition committed/end").
 */
export async function drain(db: ScenarioDb, brokers: string[], group: string, topics: string[], timeoutMs: number): Promise<string[]> {
  let behind: string[] = ['(not measured)'];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const [ends, committed] = await Promise.all([endOffsets(brokers, topics), db.committed(group, topics)]);
      behind = [...ends]
        .filter(([key, end]) => (committed.get(key) ?? 0n) < end)
        .map(([key, end]) => `${key} ${committed.get(key) ?? 0n}/${end}`);
      if (behind.length === 0) return [];
    } catch (error) {
      behind = [`(${(error as Error).message})`];
    }
    await sleep(200);
  }
  return behind;
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
