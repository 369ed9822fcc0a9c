import { Agent, request } from 'undici';
import { bodyExcerpt } from './excerpt.ts';
import { guardedLookup, literalRefusal, OutboundRefusedError, type OutboundPolicy } from './target-guard.ts';

/**
 * One outbound POST as a user-aimed request must be sent: to an allowed
 * address only (checked in the connection's own DNS lookup), no redirects
 * followed (a 3xx could point anywhere, the guard having approved only the
 * first hop), and at most MAX_RESPONSE_BYTES of the answer read, so a
 * receiver cannot fill the worker's memory.
 */

/** Bytes of a response body read at most; the rest is never downloaded. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface OutboundAnswer {
  status: number;
  /** The first characters of the body, redacted (see bodyExcerpt). */
  excerpt: string;
  /** More than MAX_RESPONSE_BYTES came: the rest was not read. */
  truncated: boolean;
  /** The Location header of a 3xx, as sent (the caller redacts it before showing it). */
  location: string | undefined;
}

/**
 * Sends the POST. `policy` says where it may go; 'trusted' skips the address
 * check for a URL an operator configured (the SCALE hook), keeping the other
 * limits. Throws OutboundRefusedError when the target is not allowed, and
 * the network's error otherwise.
 */
export async function postOutbound(outbound: OutboundRequest, policy: OutboundPolicy | 'trusted'): Promise<OutboundAnswer> {
  const url = new URL(outbound.url);
  const agent =
    policy === 'trusted'
      ? new Agent()
      : new Agent({ connect: { lookup: guardedLookup(policy, policy.allow.allowsHost(url)) } });
  try {
    if (policy !== 'trusted') {
      // A connection to an IP literal never calls the lookup, so literals are judged here.
      const refusal = literalRefusal(url, policy.allow);
      if (refusal) throw new OutboundRefusedError(refusal);
    }
    const response = await request(withoutUserinfo(url), {
      method: 'POST',
      headers: withBasicAuth(url, outbound.headers),
      body: outbound.body,
      dispatcher: agent,
      signal: AbortSignal.timeout(outbound.timeoutMs),
    });
    const { text, truncated } = await readCapped(response.body, MAX_RESPONSE_BYTES);
    const location = response.headers.location;
    return {
      status: response.statusCode,
      excerpt: bodyExcerpt(text),
      truncated,
      location: Array.isArray(location) ? location[0] : location,
    };
  } finally {
    // One agent per request: its pinned lookup belongs to this URL, and no idle socket outlives the step.
    await agent.destroy().catch(() => undefined);
  }
}

/**
 * Userinfo in a URL (https://user:pass@host) means HTTP Basic authentication;
 * the HTTP client ignores it, so it becomes the Authorization header unless
 * the step's headers already set one.
 */
function withBasicAuth(url: URL, headers: Record<string, string>): Record<string, string> {
  if (url.username === '' && url.password === '') return headers;
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) return headers;
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { ...headers, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

function withoutUserinfo(url: URL): URL {
  const bare = new URL(url);
  bare.username = '';
  bare.password = '';
  return bare;
}

/** Reads at most `limit` bytes, then stops the download. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size = limit;
      truncated = true;
      body.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  // A multi-byte character cut at the limit decodes to U+FFFD, which is fine for an excerpt.
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

/** The guard's refusal behind an error the HTTP client may have wrapped, if that is what it is. */
export function outboundRefusal(error: unknown): OutboundRefusedError | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof OutboundRefusedError) return current;
  }
  return undefined;
}
