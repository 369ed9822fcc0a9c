import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './processes.ts';

/**
 * A tiny webhook receiver on 127.0.0.1 for runbook tests: it records every
 * request (headers and raw body) and answers by a per-test script. Like a
 * careful real receiver it is idempotent: the first successful answer per
 * Idempotency-Key is kept, and a repeated key gets that answer again without
 * being processed (counted) a second time.
 */
export interface ReceivedRequest {
  /** 1 for the first request this receiver got. */
  seq: number;
  method: string;
  path: string;
  /** As node:http gives them: names in lower case. */
  headers: IncomingHttpHeaders;
  /** The body exactly as it came over the wire. */
  rawBody: string;
  /** The Idempotency-Key header, if any. */
  key: string | undefined;
  /** What it was answered (undefined while the answer is pending). */
  status: number | undefined;
  /** True when the key had already been processed successfully: answered from the record. */
  replay: boolean;
  receivedAt: number;
}

export interface ReceiverScript {
  /** Statuses for the requests that are processed (not replays), in order; after the list, `then`. */
  statuses?: number[];
  /** Status once `statuses` is used up (default 200). */
  then?: number;
  /** Milliseconds to wait before answering the n-th processed request (1-based); default none. */
  delayMs?: (n: number) => number;
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** How many times each Idempotency-Key was processed with a 2xx answer (a replay does not count). */
  successes: Map<string, number>;
  /** Waits until at least `count` requests arrived (answered or not). */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(script: ReceiverScript = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const successes = new Map<string, number>();
  /** First successful answer per key, and answers still being worked out (a duplicate waits for them). */
  const answered = new Map<string, { status: number; body: string }>();
  const inFlight = new Map<string, Promise<{ status: number; body: string }>>();
  let processed = 0;

  const handle = async (request: ReceivedRequest): Promise<{ status: number; body: string }> => {
    processed += 1;
    const n = processed;
    const status = script.statuses?.[n - 1] ?? script.then ?? 200;
    const delay = script.delayMs?.(n) ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const body = JSON.stringify({ request: request.seq, processed: n });
    if (status >= 200 && status < 300 && request.key !== undefined) {
      successes.set(request.key, (successes.get(request.key) ?? 0) + 1);
      answered.set(request.key, { status, body });
    }
    return { status, body };
  };

  /** A key already answered with success is answered from the record; one being worked on is waited for first. */
  const respond = async (request: ReceivedRequest): Promise<{ status: number; body: string }> => {
    const key = request.key;
    if (key === undefined) return handle(request);
    const pending = inFlight.get(key);
    if (pending) await pending.catch(() => undefined);
    const known = answered.get(key);
    if (known) {
      request.replay = true;
      return known;
    }
    const answer = handle(request);
    inFlight.set(key, answer);
    try {
      return await answer;
    } finally {
      if (inFlight.get(key) === answer) inFlight.delete(key);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const header = req.headers['idempotency-key'];
      const request: ReceivedRequest = {
        seq: requests.length + 1,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        key: Array.isArray(header) ? header[0] : header,
        status: undefined,
        replay: false,
        receivedAt: Date.now(),
      };
      requests.push(request);
      void respond(request).then(({ status, body }) => {
        request.status = status;
        // The sender may be gone (killed mid-request): answering then is harmless.
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    successes,
    waitForRequests: (count, timeoutMs = 30_000) =>
      waitFor(
        async () => requests.length >= count && requests,
        timeoutMs,
        () => `the receiver got ${requests.length} of ${count} requests: ${JSON.stringify(requests.map((r) => ({ key: r.key, status: r.status })))}`,
        50,
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
