import type { IncomingMessage } from 'node:http';

/**
 * The address anonymous traffic and failed authentications are counted by:
 * the TCP peer. Forwarded-for headers are not trusted, since any client can
 * write them; behind a proxy every client shares the proxy's bucket.
 */
export function addressOf(request: IncomingMessage | undefined): string {
  return request?.socket?.remoteAddress ?? 'unknown';
}
