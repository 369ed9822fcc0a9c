import { redactUrlsIn } from '../core/redact-url.ts';

/**
 * What is kept of a receiver's answer: enough for an operator to see why a
 * call failed, not a copy of whatever the receiver (or an internal service a
 * bad URL reached) chose to send back, and no credentials it echoed.
 */

/** Characters of a response body kept in step outputs and error messages. */
export const EXCERPT_CHARS = 200;

const MARKER = '[redacted]';
// Key-value pairs whose key names a credential, in JSON ("token": "x"), form (token=x) or header (Token: x) style.
const CREDENTIAL_PAIR =
  /("?[\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key|authorization|cookie|session|credential|signature)[\w-]*"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,;&}]+)/gi;
// An authorization scheme followed by its credential.
const AUTH_SCHEME = /\b(bearer|basic|token)\s+[\w.~+/=-]{8,}/gi;
// JSON Web Tokens are recognisable by shape wherever they sit.
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/** Text with URLs, credential pairs, authorization values and JWTs replaced by a marker. */
export function redactSecretsIn(text: string): string {
  return redactUrlsIn(text)
    .replace(JWT, MARKER)
    .replace(AUTH_SCHEME, `$1 ${MARKER}`)
    .replace(CREDENTIAL_PAIR, (_match, key: string, value: string) => `${key}${value.startsWith('"') ? `"${MARKER}"` : MARKER}`);
}

/**
 * The first EXCERPT_CHARS characters of a body, redacted, on one line. Cut
 * before redacting would let a secret straddling the cut escape the
 * patterns, so a little more is redacted and the result cut again.
 */
export function bodyExcerpt(body: string): string {
  const oneLine = body.slice(0, EXCERPT_CHARS * 4).replace(/\s+/g, ' ').trim();
  const redacted = redactSecretsIn(oneLine);
  return redacted.length > EXCERPT_CHARS ? `${redacted.slice(0, EXCERPT_CHARS)}...` : redacted;
}
