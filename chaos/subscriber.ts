/**
 * A graphql-ws subscriber to `anomalies` kept open through a scenario. When
 * its socket drops (Vigil killed, Redis gone) it reconnects every 250 ms until
 * it gets through. If the schema gives the subscription a resume argument
 * (`after` or `cursor`), it resubscribes from the last anomaly it got and
 * counts what comes back from before the resubscription as replayed;
 * otherwise what was published while it was away is simply missed.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { encodeCursor } from '../src/services/pagination.ts';
import { sleep } from './services/proc.ts';
import { ADMIN_KEY, gql } from './vigil.ts';

export interface Push {
  id: string;
  topic: string;
  detectedAt: number;
  receivedAt: number;
  /** Received on a resumed subscription, of an anomaly committed before it resumed. */
  replayed: boolean;
}

interface AnomalyPush {
  id: string;
  cursor?: string | null;
  detectedAt: string;
  source: { topic: string };
}

/** How the running schema lets a subscriber resume, if it does. */
export async function resumeSupport(port: number): Promise<{ arg: string; cursorField: boolean } | undefined> {
  const data = await gql<{
    subscription: { fields: { name: string; args: { name: string }[] }[] } | null;
    anomaly: { fields: { name: string }[] } | null;
  }>(port, `{ subscription: __type(name: "Subscription") { fields { name args { name } } } anomaly: __type(name: "Anomaly") { fields { name } } }`);
  const args = data.subscription?.fields.find((f) => f.name === 'anomalies')?.args.map((a) => a.name) ?? [];
  const arg = ['after', 'cursor'].find((name) => args.includes(name));
  if (!arg) return undefined;
  return { arg, cursorField: data.anomaly?.fields.some((f) => f.name === 'cursor') ?? false };
}

export class AnomalySubscriber {
  readonly pushes = new Map<string, Push>();
  duplicates = 0;
  reconnects = 0;
  errors: string[] = [];
  private lastCursor: string | undefined;
  private client: Client | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private connected = false;

  constructor(
    private readonly port: number,
    readonly resume: { arg: string; cursorField: boolean } | undefined,
  ) {}

  /** Opens the subscription; resolves once the first socket is acknowledged. */
  async open(): Promise<void> {
    this.loop = this.run();
    const deadline = Date.now() + 30_000;
    while (!this.connected) {
      if (Date.now() > deadline) throw new Error(`subscriber could not connect: ${this.errors.slice(-3).join('; ')}`);
      await sleep(20);
    }
  }

  private async run(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      const resumed = !first && this.resume !== undefined;
      first = false;
      await this.once(resumed);
      if (!this.stopped) await sleep(250);
    }
  }

  private once(resumed: boolean): Promise<void> {
    const resumeArg = this.resume ? `(${this.resume.arg}: $cursor)` : '';
    const query = `subscription${this.resume ? '($cursor: String)' : ''} { anomalies${resumeArg} { id ${this.resume?.cursorField ? 'cursor' : ''} detectedAt source { topic } } }`;
    const subscribedAt = Date.now();
    return new Promise((resolve) => {
      const client = createClient({
        url: `ws://127.0.0.1:${this.port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${ADMIN_KEY}` },
        retryAttempts: 0,
        lazy: true,
        on: {
          connected: () => {
            // Reconnections that got through, not attempts (it tries every 250 ms while Vigil is away).
            if (this.connected) this.reconnects++;
            this.connected = true;
          },
        },
      });
      this.client = client;
      const finish = () => {
        void client.dispose();
        resolve();
      };
      client.subscribe<{ anomalies: AnomalyPush }>(
        { query, variables: this.resume ? { cursor: this.lastCursor ?? null } : {} },
        {
          next: (result) => {
            const a = result.data?.anomalies;
            if (!a) {
              if (result.errors) this.errors.push(JSON.stringify(result.errors).slice(0, 300));
              return;
            }
            if (this.pushes.has(a.id)) {
              this.duplicates++;
              return;
            }
            const detectedAt = Date.parse(a.detectedAt);
            this.pushes.set(a.id, { id: a.id, topic: a.source.topic, detectedAt, receivedAt: Date.now(), replayed: resumed && detectedAt < subscribedAt });
            // The schema's own cursor when it has one; else (an `after` without a cursor field) the connection cursor of the id.
            if (a.cursor) this.lastCursor = a.cursor;
            else if (!this.resume?.cursorField) this.lastCursor = encodeCursor(a.id);
          },
          error: (error) => {
            this.errors.push(describe(error));
            finish();
          },
          complete: () => {
            this.errors.push('completed by the server');
            finish();
          },
        },
      );
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.client?.dispose();
    await this.loop;
  }
}

/** An Error, a CloseEvent (code and reason) or GraphQL errors, in one line. */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 200);
  const event = error as { code?: unknown; reason?: unknown; message?: unknown };
  if (typeof event?.code === 'number') return `socket closed ${event.code}${event.reason ? ` ${String(event.reason).slice(0, 150)}` : ''}`;
  // ws' ErrorEvent: a socket that could not connect (Vigil not listening yet).
  if (typeof event?.message === 'string') return event.message.slice(0, 200);
  return JSON.stringify(error).slice(0, 200);
}
