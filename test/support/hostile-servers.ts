import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * HTTP servers on 127.0.0.1 that answer a webhook the way a hostile or broken
 * receiver would, for the outbound-request tests: a redirect inward, and a
 * body that never ends.
 */
export interface HostileServer {
  url: string;
  port: number;
  /** Requests received so far. */
  hits: number;
  /** Resolves when the client hung up before the answer was complete. */
  clientHungUp: Promise<void>;
  close(): Promise<void>;
}

async function serve(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<HostileServer> {
  let markHungUp: () => void = () => undefined;
  const clientHungUp = new Promise<void>((resolve) => (markHungUp = resolve));
  const server = createServer((request, response) => {
    state.hits += 1;
    response.once('close', () => {
      if (!response.writableFinished) markHungUp();
    });
    request.resume();
    request.once('end', () => answer(request, response));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const state: HostileServer = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    hits: 0,
    clientHungUp,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}

/** Answers every request 302 to `location`. */
export function startRedirector(location: string): Promise<HostileServer> {
  return serve((_request, response) => response.writeHead(302, { location, 'content-type': 'text/plain' }).end(`see ${location}`));
}

/** Answers 200 with `head` and then filler, forever, until the client hangs up. */
export function startEndlessBody(head: string): Promise<HostileServer> {
  const filler = Buffer.alloc(16 * 1024, 'a');
  return serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write(head);
    // Write while the socket takes it, then wait for 'drain': endless, but never buffered without bound.
    const pump = () => {
      let room = true;
      while (room && !response.destroyed) room = response.write(filler);
      if (!response.destroyed) response.once('drain', pump);
    };
    pump();
  });
}
