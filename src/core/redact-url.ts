/**
 * URLs as people may see them: in the API, in errors and timelines, in logs
 * and in the audit trail. Webhook URLs often carry credentials, in userinfo
 * (https://user:pass@host) or the query (?token=...), and a VIEWER who can
 * read a runbook must not be able to lift them. The runner keeps the URL as
 * given; only what is shown is redacted.
 */

const MARKER = '[redacted]';

/**
 * `https://user:pass@host/path?token=x#frag` -> `https://[redacted]@host/path?[redacted]#[redacted]`.
 * A URL with nothing to hide is returned exactly as written. Text that does
 * not parse as a URL is still stripped of anything shaped like userinfo or a query.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/?#\s]*@/, `//${MARKER}@`).replace(/\?[^#\s]*/, `?${MARKER}`).replace(/#\S*/, `#${MARKER}`);
  }
  const hasUserinfo = parsed.username !== '' || parsed.password !== '';
  // `?` alone parses to an empty search, so the raw text decides whether a query was written.
  const hasQuery = parsed.search !== '' || /^[^#]*\?/.test(url);
  const hasFragment = parsed.hash !== '';
  if (!hasUserinfo && !hasQuery && !hasFragment) return url;
  const authority = parsed.host === '' ? '' : `//${hasUserinfo ? `${MARKER}@` : ''}${parsed.host}`;
  return `${parsed.protocol}${authority}${parsed.pathname}${hasQuery ? `?${MARKER}` : ''}${hasFragment ? `#${MARKER}` : ''}`;
}

// A scheme, "://", then up to whitespace, a quote or an angle bracket: how URLs sit inside messages.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

// Sentence punctuation right after a URL ("failed: see https://x/y?k=v; retrying") belongs to the message.
// Not "]": a URL redacted before ends in "?[redacted]", and redacting twice must change nothing.
const TRAILING_PUNCTUATION = /[.,;:!?)'"]+$/;

/** Every URL inside a message (an error, a timeline entry, a log line) redacted with redactUrl. */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (match) => {
    const trailing = TRAILING_PUNCTUATION.exec(match)?.[0] ?? '';
    return redactUrl(match.slice(0, match.length - trailing.length)) + trailing;
  });
}
