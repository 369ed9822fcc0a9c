/**
 * The demo's webhook receiver on loopback: it stands in for a team's
 * remediation endpoint. It can hold its answer until the demo says the
 * remediation is done (the history has been consumed), so the runbook's
 * verification starts after the last injected fault was detected, as it
 * would after a real fix.
 */
import { createServer, type Server } from 'node:http';

export interface WebhookCall {
  at: Date;
  path: string;
  /** The incident the runbook ran for, from Vigil's JSON body. */
  body: unknown;
}

export interface Receiver {
  port: number;
  url: string;
  calls: WebhookCall[];
  /** Answers held calls and every later call at once. */
  release(): void;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any free port); a call waits for release() at most `holdMs`. */
export async function startReceiver(port: number, holdMs: number, onCall: (call: WebhookCall) => void = () => {}): Promise<Receiver> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const calls: WebhookCall[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8').slice(0, 200);
      }
      const call = { at: new Date(), path: request.url ?? '/', body };
      calls.push(call);
      onCall(call);
      const timer = setTimeout(release, holdMs);
      void released.then(() => {
        clearTimeout(timer);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, action: 'restarted the slow checkout workers (demo)' }));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}/hooks/vigil-demo`,
    calls,
    release,
    close: () =>
      new Promise<void>((resolve) => {
        release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
