import type { ExecutionResult } from 'graphql';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Anomaly } from '../../src/generated/prisma/client.ts';
import { newId } from '../../src/core/ids.ts';
import { CHANNELS, type PubSub } from '../../src/pubsub/pubsub.ts';
import { serializeAnomaly } from '../../src/stream/serialize.ts';
import { uniqueName } from './env.ts';
import { registerLatencyStream, type Harness } from './harness.ts';
import { Signal } from './signal.ts';

/**
 * What the resumable-subscription tests share: rows committed and announced
 * as the worker does (commit, then publish), clients of both transports, and
 * a collector that waits on what it receives rather than on the clock.
 */

export type Transport = 'graphql-ws' | 'graphql-sse';

export function subscriptionClient(h: Harness, transport: Transport, secret: string): WsClient | SseClient {
  if (transport === 'graphql-ws') {
    return createWsClient({ url: h.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${secret}` } });
  }
  return createSseClient({ url: h.url, retryAttempts: 0, headers: { authorization: `Bearer ${secret}` } });
}

export interface Item {
  id: string;
  cursor: string | null;
  [field: string]: unknown;
}

/** The items one subscription receives (the root field of each result), in order. */
export class Collector {
  readonly items: Item[] = [];
  readonly failures: unknown[] = [];
  private readonly changed = new Signal();
  readonly unsubscribe: () => void;

  constructor(client: WsClient | SseClient, query: string, variables: Record<string, unknown>) {
    this.unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result: ExecutionResult) => {
          if (result.errors?.length) this.failures.push(result.errors);
          const item = Object.values(result.data ?? {})[0] as Item | undefined;
          if (item) this.items.push(item);
          this.changed.notify();
        },
        error: (error: unknown) => {
          this.failures.push(error);
          this.changed.notify();
        },
        complete: () => this.changed.notify(),
      },
    );
  }

  ids(): string[] {
    return this.items.map((item) => item.id);
  }

  /** Resolves once `done` holds after an item arrived; rejects on a failure or after `ms`. */
  async until(done: () => boolean, what: string, ms = 30_000): Promise<void> {
    const failed = () => this.failures.length > 0;
    await this.changed.until(() => failed() || done(), ms, () => `${what}: ${this.items.length} items (last ${JSON.stringify(this.items.at(-1))})`);
    if (failed() && !done()) throw new Error(`${what}: the subscription failed: ${JSON.stringify(this.failures)}`);
  }
}

/** A cursor's commit position, to check order in tests (the format is the server's, not the contract's). */
export function positionOf(cursor: string | null): { seq: bigint; id: string } {
  const match = /^p:(\d+):(.+)$/.exec(Buffer.from(cursor ?? '', 'base64url').toString('utf8'));
  if (!match) throw new Error(`not a commit cursor: ${cursor}`);
  return { seq: BigInt(match[1]!), id: match[2]! };
}

export function ascending(cursors: (string | null)[]): boolean {
  const positions = cursors.map(positionOf);
  return positions.every((p, i) => {
    const before = positions[i - 1];
    return !before || p.seq > before.seq || (p.seq === before.seq && Buffer.compare(Buffer.from(p.id), Buffer.from(before.id)) > 0);
  });
}

let nextOffset = 0;

export interface AnomalyTarget {
  streamId: string;
  detectorId: string;
  topic: string;
}

/** An anomaly row as the worker writes one (the offset keeps the unique event key unique). */
export function anomalyRow(target: AnomalyTarget, value: number, id = newId('Anomaly')): Omit<Anomaly, 'incidentId' | 'label' | 'labelNote' | 'labelledBy' | 'slaId' | 'silenceId'> {
  const now = new Date();
  return {
    id,
    streamId: target.streamId,
    detectorId: target.detectorId,
    detectorVersion: 1,
    seriesKey: 'web-1',
    field: 'latency_ms',
    value,
    score: value / 500,
    expected: null,
    lower: null,
    upper: 500,
    severity: 'CRITICAL',
    shadow: false,
    eventTime: now,
    detectedAt: now,
    explanation: `value ${value} is above the maximum 500`,
    topic: target.topic,
    partition: 0,
    offset: BigInt(++nextOffset),
    eventKey: 'web-1',
    eventTimestamp: now,
    schemaVersion: 1,
    traceparent: null,
  };
}

/** Commits one anomaly, then announces it on Redis, as the worker's batch commit does; resolves with its id. */
export async function commitAnomaly(h: Harness, target: AnomalyTarget, value = 900): Promise<string> {
  const anomaly = await h.runtime.services.ports.db.anomaly.create({ data: anomalyRow(target, value) });
  await h.runtime.services.pubsub.publish(CHANNELS.anomalies, serializeAnomaly(anomaly));
  return anomaly.id;
}

/** A stream with a THRESHOLD detector, registered through the API: anomalies need both rows. */
export async function anomalyTarget(h: Harness): Promise<AnomalyTarget> {
  const stream = await registerLatencyStream(h);
  const { registerDetector } = await h.admin.request<{ registerDetector: { id: string } }>(
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    { input: { streamId: stream.id, name: uniqueName('ceiling'), field: 'latency_ms', kind: 'THRESHOLD', params: { max: 500 } } },
  );
  return { streamId: stream.id, detectorId: registerDetector.id, topic: stream.topic };
}

/**
 * Runs `commit` back to back until stopped, recording each id once its
 * commit resolved: the load that races a subscription's replay.
 */
export function producer(commit: () => Promise<string>): { committed: string[]; stop(): Promise<void> } {
  const committed: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) committed.push(await commit());
  })();
  return {
    committed,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** An anomaly as the worker announces one, for a row that is not in PostgreSQL: subscribers get it as it came. */
export function unstoredAnomaly(target: AnomalyTarget, value: number): { id: string } & Record<string, unknown> {
  const row = anomalyRow(target, value);
  return { ...serializeAnomaly({ ...row, incidentId: null, label: null, labelNote: null, labelledBy: null, slaId: null, silenceId: null }), id: row.id };
}

/**
 * Publishes `payloads` on `channel`, again every 100 ms, until `heard`
 * settles (and as it settles): the server does not say when a subscription
 * is live, so a test rings until its subscriber hears.
 */
export async function publishUntilHeard(pubsub: PubSub, channel: string, payloads: object[], heard: Promise<unknown>): Promise<void> {
  let settled = false;
  const done = heard.finally(() => (settled = true));
  const quiet = done.catch(() => undefined);
  while (!settled) {
    for (const payload of payloads) await pubsub.publish(channel, payload);
    await Promise.race([quiet, new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  await done;
}
