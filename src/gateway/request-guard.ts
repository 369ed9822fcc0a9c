import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Refusals decided from the request line and headers alone, before a byte
 * of the body is read or parsed:
 * - a body over the limit (413), or a POST without Content-Length (411),
 *   since a chunked body would have to be read to learn its size;
 * - a POST whose Content-Type a browser may send cross-site without a
 *   preflight (form posts, multipart, text/plain: 415), so a page on another
 *   origin cannot make a signed-in browser run a mutation.
 */
export function refuseBeforeBody(request: IncomingMessage, maxBytes: number): { status: number; message: string } | undefined {
  if (request.method !== 'POST') return undefined;
  const length = request.headers['content-length'];
  if (length === undefined) return { status: 411, message: 'a POST needs a Content-Length header' };
  const bytes = Number(length);
  if (!Number.isSafeInteger(bytes) || bytes < 0) return { status: 400, message: 'Content-Length is not a byte count' };
  if (bytes > maxBytes) return { status: 413, message: `the body is ${bytes} bytes; the limit is ${maxBytes} (VIGIL_MAX_REQUEST_BYTES)` };
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/graphql+json') {
    return { status: 415, message: `Content-Type must be application/json, got ${JSON.stringify(type || 'none')}` };
  }
  return undefined;
}

/** Answers a refusal as a GraphQL error response and closes the connection, leaving the body unread. */
export function sendRefusal(response: ServerResponse, refusal: { status: number; message: string }): void {
  const body = JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: 'BAD_USER_INPUT' } }] });
  response.writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close', 'content-length': Buffer.byteLength(body) });
  response.end(body, () => response.socket?.destroy());
}
