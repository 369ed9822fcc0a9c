/**
 * `vigil demo`, through the public API only (the typed SDK, as a user's
 * automation would): registers a stream, a LIKELIHOOD detector, an SLA and a
 * runbook whose webhook reaches the demo's own loopback receiver, produces an
 * hour of history with injected faults, and follows them to an incident, a
 * runbook run and its verification.
 */
import { GraphQLClient } from 'graphql-request';
import { createVigilClient, vigilErrors, type VigilClient } from '../../../sdk/index.ts';
import { mulberry32 } from '../../core/seeded-random.ts';
import type { ProgressBar } from '../progress.ts';
import type { Receiver } from './receiver.ts';
import { DEMO_DETECTOR_PARAMS, demoEvents, historyInjections, liveInjection, STEP_MS, type DemoEvent, type Injection } from './series.ts';

export interface DemoOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  apiKey: string;
  /** Where the console's pages are, e.g. http://127.0.0.1:4000/. */
  consoleUrl: string;
  receiver: Receiver;
  name: string;
  minutes: number;
  seed: number;
  /** How long to wait for the incident, the run and its verification. */
  timeoutMs: number;
  print: (line: string) => void;
  bar: ProgressBar;
}

export interface DemoOutcome {
  streamId: string;
  anomalies: { host: string | null; value: number; eventTime: string; explanation: string }[];
  incident: { id: string; title: string; status: string; url: string; postmortemUrl: string } | null;
  execution: { id: string; status: string; verified: boolean | null; steps: { action: string; status: string }[]; url: string } | null;
  webhookCalls: number;
  /** Set when the service refused the loopback webhook (VIGIL_WEBHOOK_ALLOW): the runbook only notifies. */
  webhookRefused: string | null;
}

const LATENCY_SCHEMA = {
  type: 'object',
  properties: { host: { type: 'string' }, latency_ms: { type: 'number', minimum: 0 }, at: { type: 'string', format: 'date-time' } },
  required: ['host', 'latency_ms', 'at'],
  additionalProperties: false,
};
const VERIFY_WITHIN_SECONDS = 15;

/** What the SDK's operations do not select: consumption lag and an incident's runbook runs. */
const LAG = /* GraphQL */ `query demoLag($id: ID) { stream(id: $id) { health { ingestionLag } } }`;
const RUNS = /* GraphQL */ `query demoRuns($id: ID!) { incident(id: $id) { id title status executions { id status verified steps { action status } } } }`;
interface RunsAnswer {
  incident: { id: string; title: string; status: string; executions: { id: string; status: string; verified: boolean | null; steps: { action: string; status: string }[] }[] } | null;
}

export class DemoError extends Error {}

/** The GraphQL errors of a failed call as one line, or its message when the service was not reached. */
export function describeApiError(error: unknown, url: string): string {
  const errors = vigilErrors(error);
  if (errors.length > 0) return errors.map((e) => `${e.code ?? 'ERROR'}${e.field ? ` (${e.field})` : ''}: ${e.message}`).join('; ');
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${url}: ${error instanceof Error ? error.message : String(error)}${cause}; is the service running (npm start)?`;
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoError(`no ${what} within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export class Demo {
  readonly sdk: VigilClient;
  private readonly raw: GraphQLClient;
  streamId = '';
  private detectorId = '';

  constructor(private readonly options: DemoOptions) {
    this.sdk = createVigilClient(options.url, options.apiKey);
    this.raw = new GraphQLClient(options.url, { headers: { authorization: `Bearer ${options.apiKey}` } });
  }

  /** A console page (console/src/router.ts): a stream, an incident (its runbook runs included) or its postmortem. */
  link(kind: 'incidents' | 'streams' | 'postmortem', id: string): string {
    const path = kind === 'postmortem' ? `incidents/${encodeURIComponent(id)}/postmortem` : `${kind}/${encodeURIComponent(id)}`;
    return `${this.options.consoleUrl.replace(/\/+$/, '')}/#/${path}`;
  }

  /** Stream, detector, SLA and runbook; the webhook falls back to NOTIFY alone when the service refuses loopback. */
  async register(): Promise<{ webhookRefused: string | null }> {
    const { print, name, receiver } = this.options;
    const { viewer } = await this.sdk.viewer();
    if (viewer.role !== 'ADMIN') throw new DemoError(`the key "${viewer.apiKey?.name ?? "?"}" has role ${viewer.role}; the demo registers things, so it needs an ADMIN key`);
    const { registerStream: stream } = await this.sdk.registerStream({
      input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 3, retentionDays: 7 },
    });
    this.streamId = stream.id;
    print(`stream     ${stream.name}: checkout latency of web-1..3, one reading per host every 5 s   ${this.link('streams', stream.id)}`);
    const { registerDetector: detector } = await this.sdk.registerDetector({
      input: { streamId: stream.id, name: 'latency-likelihood', field: 'latency_ms', kind: 'LIKELIHOOD', params: DEMO_DETECTOR_PARAMS, severity: 'WARNING' },
    });
    this.detectorId = detector.id;
    print(`detector   ${detector.name} (LIKELIHOOD on latency_ms, learns each host for its first 300 readings)`);
    const { registerSla: sla } = await this.sdk.registerSla({
      input: { streamId: stream.id, name: 'valid-events', objective: 'ERROR_RATE', threshold: 0.01, windowSeconds: 600 },
    });
    print(`sla        ${sla.name}: under 1% of events rejected over 10 minutes`);
    const notify = { action: 'NOTIFY' as const, params: { message: `Checkout latency anomaly on ${name}: restarting the slow workers`, verifyWithinSeconds: VERIFY_WITHIN_SECONDS } };
    const webhook = { action: 'WEBHOOK' as const, params: { url: receiver.url, timeoutMs: 30_000, verifyWithinSeconds: VERIFY_WITHIN_SECONDS } };
    const runbookInput = (steps: (typeof notify | typeof webhook)[]) => ({
      name: `${name}-restart-workers`,
      trigger: { detectorId: detector.id, minSeverity: 'WARNING' as const },
      steps,
      cooldownSeconds: 120,
    });
    let webhookRefused: string | null = null;
    try {
      await this.sdk.registerRunbook({ input: runbookInput([notify, webhook]) });
      print(`runbook    NOTIFY, then WEBHOOK to ${receiver.url} (this demo's receiver); verified if ${VERIFY_WITHIN_SECONDS} s pass without a new anomaly`);
    } catch (error) {
      const refused = vigilErrors(error).find((e) => e.code === 'BAD_USER_INPUT' && e.field?.includes('params.url'));
      if (!refused) throw error;
      webhookRefused = refused.message;
      await this.sdk.registerRunbook({ input: runbookInput([notify]) });
      print(`runbook    NOTIFY only: the service refuses webhooks to 127.0.0.1:${receiver.port}. To see the webhook too, start it with`);
      print(`           VIGIL_WEBHOOK_ALLOW=127.0.0.1:${receiver.port} npm start   (docs/security.md)`);
    }
    return { webhookRefused };
  }

  /** Publishes events 1000 at a time (publishEvents' limit), drawing the bar. */
  async publish(events: DemoEvent[], done = 0, total = events.length): Promise<void> {
    for (let i = 0; i < events.length; i += 1000) {
      const { publishEvents } = await this.sdk.publishEvents({ streamId: this.streamId, events: events.slice(i, i + 1000) });
      if (publishEvents.rejected.length > 0) throw new DemoError(`events rejected: ${publishEvents.rejected[0]!.reason}`);
      this.options.bar.update(done + Math.min(i + 1000, events.length), total, 'events');
    }
  }

  async consumed(timeoutMs: number): Promise<void> {
    await until('consumption of the produced events', timeoutMs, async () => {
      const { stream } = await this.raw.request<{ stream: { health: { ingestionLag: number } } | null }>(LAG, { id: this.streamId });
      return stream && stream.health.ingestionLag === 0 ? true : undefined;
    });
  }

  /** An hour (options.minutes) of history ending now, the faults in its last quarter. */
  async produceHistory(end: number): Promise<Injection[]> {
    const { minutes, seed, print, receiver, bar } = this.options;
    const injections = historyInjections(end);
    const events = demoEvents(end - minutes * 60_000, end, injections, mulberry32(seed));
    // The faults and what follows go last, in one piece, after the rest was consumed: nothing of them is
    // detected after the runbook finished, which would (rightly) fail its verification.
    const split = events.findIndex((e) => Date.parse(e.at) >= injections[0]!.at - 60_000);
    print(`producing  ${events.length} events: the last ${minutes} minutes, with ${injections.length} injected slowdowns ${injections.map((f) => `${f.host} +${f.extraMs} ms`).join(', ')}`);
    await this.publish(events.slice(0, split), 0, events.length);
    await this.consumed(this.options.timeoutMs);
    await this.publish(events.slice(split), split, events.length);
    await this.consumed(this.options.timeoutMs);
    bar.done();
    // The remediation (the receiver's answer) is done once the worker has seen everything.
    receiver.release();
    return injections;
  }

  async outcome(webhookRefused: string | null): Promise<DemoOutcome> {
    const { timeoutMs } = this.options;
    const incident = await until('incident', timeoutMs, async () => {
      const { incidents } = await this.sdk.incidents({ filter: { streamId: this.streamId }, first: 10 });
      return incidents.edges[0]?.node;
    });
    const runs = await until('verified runbook run', timeoutMs + VERIFY_WITHIN_SECONDS * 1000, async () => {
      const answer = await this.raw.request<RunsAnswer>(RUNS, { id: incident.id });
      const run = answer.incident?.executions[0];
      return run && run.verified !== null ? answer.incident! : undefined;
    });
    const { anomalies } = await this.sdk.anomalies({ filter: { streamId: this.streamId }, first: 50 });
    const run = runs.executions[0]!;
    return {
      streamId: this.streamId,
      anomalies: anomalies.edges.map(({ node }) => ({ host: node.seriesKey, value: node.value, eventTime: node.eventTime, explanation: node.explanation })),
      incident: { id: runs.id, title: runs.title, status: runs.status, url: this.link('incidents', runs.id), postmortemUrl: this.link('postmortem', runs.id) },
      // The console shows a run on its incident's page; it has no page of its own.
      execution: { id: run.id, status: run.status, verified: run.verified, steps: run.steps, url: this.link('incidents', runs.id) },
      webhookCalls: this.options.receiver.calls.length,
      webhookRefused,
    };
  }

  /** --keep-running: live readings every 5 s and a fault every `faultEveryMs`, until the signal aborts. */
  async produceLive(signal: AbortSignal, faultEveryMs: number): Promise<void> {
    const random = mulberry32(this.options.seed + 1);
    let last = Date.now();
    let nextFault = last + faultEveryMs;
    let round = 0;
    const faults: Injection[] = [];
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, STEP_MS));
      const now = Date.now();
      if (now >= nextFault) {
        const fault = liveInjection(now, round++);
        faults.push(fault);
        this.options.print(`live       injecting a slowdown on ${fault.host} (+${fault.extraMs} ms for 30 s)`);
        nextFault = now + faultEveryMs;
      }
      const events = demoEvents(last, now, faults, random);
      last = now;
      if (events.length > 0 && !signal.aborted) await this.sdk.publishEvents({ streamId: this.streamId, events });
    }
  }
}
