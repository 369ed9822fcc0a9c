import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { compileAllowlist, EMPTY_ALLOWLIST } from '../../src/core/allowlist.ts';
import { bodyExcerpt, EXCERPT_CHARS } from '../../src/outbound/excerpt.ts';
import { guardedLookup, OutboundRefusedError, targetRefusal, type OutboundPolicy, type Resolver } from '../../src/outbound/target-guard.ts';
import { redactUrl, redactUrlsIn } from '../../src/core/redact-url.ts';

/** A resolver that answers from a table, and counts its calls: DNS as the test wants it, no network. */
function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

/** Calls a net.connect-style lookup and returns what it handed the connection. */
function lookUp(policy: OutboundPolicy, trustedHost: boolean, hostname: string, options: { all?: boolean; family?: number } = { all: true }) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>((resolve) => {
    guardedLookup(policy, trustedHost)(hostname, options, (error, address, family) => resolve({ error, address, family }));
  });
}

describe('the registration check (targetRefusal)', () => {
  it('refuses a name that resolves to a non-public address, naming it', async () => {
    const policy = { allow: EMPTY_ALLOWLIST, resolve: fakeResolver({ 'metadata.internal': ['169.254.169.254'], localhost: ['127.0.0.1', '::1'] }) };
    expect(await targetRefusal(new URL('http://metadata.internal/latest'), policy)).toBe(
      'metadata.internal resolves to 169.254.169.254, a link-local address; add the host to VIGIL_WEBHOOK_ALLOW to allow it',
    );
    expect(await targetRefusal(new URL('http://localhost:8080/'), policy)).toContain('resolves to 127.0.0.1, a loopback address');
  });

  it('refuses when any one of several addresses is not public (a round-robin answer cannot smuggle one in)', async () => {
    const policy = { allow: EMPTY_ALLOWLIST, resolve: fakeResolver({ 'mixed.example': ['93.184.215.14', '10.0.0.7'] }) };
    expect(await targetRefusal(new URL('https://mixed.example/'), policy)).toContain('10.0.0.7, a private address');
  });

  it('accepts public names, allowed names without resolving them, and names that do not resolve yet', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['93.184.215.14'], 'hooks.internal': ['10.0.0.9'] });
    const policy = { allow: compileAllowlist(['hooks.internal']), resolve };
    expect(await targetRefusal(new URL('https://hooks.example.com/'), policy)).toBeNull();
    expect(await targetRefusal(new URL('https://hooks.internal/'), policy)).toBeNull();
    expect(await targetRefusal(new URL('https://not-yet.example/'), policy)).toBeNull();
    expect(resolve.calls).toEqual(['hooks.example.com', 'not-yet.example']);
  });

  it('gives up on a resolver that does not answer in time, leaving the name to the send-time check', async () => {
    const policy = { allow: EMPTY_ALLOWLIST, resolve: () => new Promise<LookupAddress[]>(() => undefined) };
    expect(await targetRefusal(new URL('https://slow.example/'), policy, 20)).toBeNull();
  });
});

describe('the send-time lookup (guardedLookup)', () => {
  it('refuses a name that was public at registration and resolves to a private address now (DNS rebinding)', async () => {
    const table: Record<string, string[]> = { 'rebind.example': ['93.184.215.14'] };
    const policy = { allow: EMPTY_ALLOWLIST, resolve: fakeResolver(table) };
    expect(await targetRefusal(new URL('https://rebind.example/hook'), policy)).toBeNull();

    table['rebind.example'] = ['127.0.0.1'];
    const { error, address } = await lookUp(policy, false, 'rebind.example');
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect(error?.message).toBe('rebind.example resolves to 127.0.0.1, a loopback address; add the host to VIGIL_WEBHOOK_ALLOW to allow it');
    expect(address).toBe('');
  });

  it('hands the connection exactly the addresses it checked, resolving once', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
    const policy = { allow: EMPTY_ALLOWLIST, resolve };
    expect(await lookUp(policy, false, 'hooks.example.com')).toEqual({
      error: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
      ],
      family: undefined,
    });
    expect(await lookUp(policy, false, 'hooks.example.com', { family: 6 })).toEqual({
      error: null,
      address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c',
      family: 6,
    });
    expect(resolve.calls).toEqual(['hooks.example.com', 'hooks.example.com']);
  });

  it('lets an allowlisted host or an address in an allowed range through', async () => {
    const resolve = fakeResolver({ 'receiver.test': ['127.0.0.1'], 'in-range.test': ['10.20.0.5'], 'out-of-range.test': ['10.21.0.5'] });
    const policy = { allow: compileAllowlist(['10.20.0.0/16']), resolve };
    expect((await lookUp(policy, true, 'receiver.test')).address).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect((await lookUp(policy, false, 'in-range.test')).error).toBeNull();
    expect((await lookUp(policy, false, 'out-of-range.test')).error).toBeInstanceOf(OutboundRefusedError);
  });

  it('passes a resolver failure on as it is', async () => {
    const { error } = await lookUp({ allow: EMPTY_ALLOWLIST, resolve: fakeResolver({}) }, false, 'nowhere.example');
    expect(error?.code).toBe('ENOTFOUND');
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://user:pass@hooks.example.com/path?token=abc', 'https://[redacted]@hooks.example.com/path?[redacted]'],
    ['https://user@hooks.example.com/p', 'https://[redacted]@hooks.example.com/p'],
    ['https://hooks.example.com/p?', 'https://hooks.example.com/p?[redacted]'],
    ['https://hooks.example.com/p#access_token=x', 'https://hooks.example.com/p#[redacted]'],
    ['http://a:b@[::1]:8080/x?y=1', 'http://[redacted]@[::1]:8080/x?[redacted]'],
    ['not a url ?token=x', 'not a url ?[redacted]'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('returns a URL with nothing to hide exactly as written', () => {
    expect(redactUrl('https://Hooks.Example.com')).toBe('https://Hooks.Example.com');
  });

  it('redacts every URL inside a message and leaves the rest', () => {
    expect(redactUrlsIn('POST https://u:p@a.example/x?k=1 failed; retry http://b.example/y?s=2.')).toBe(
      'POST https://[redacted]@a.example/x?[redacted] failed; retry http://b.example/y?[redacted].',
    );
    expect(redactUrlsIn('answered 302 to http://c.example/z?t=3; redirects are not followed')).toBe(
      'answered 302 to http://c.example/z?[redacted]; redirects are not followed',
    );
  });

  it('changes nothing the second time: messages are redacted when stored and again when shown', () => {
    const once = redactUrlsIn('POST https://u:p@a.example/x?k=1#f answered 302 to http://c.example/z?t=3; stop');
    expect(redactUrlsIn(once)).toBe(once);
  });
});

describe('bodyExcerpt', () => {
  it(`keeps at most ${EXCERPT_CHARS} characters on one line`, () => {
    const excerpt = bodyExcerpt(`line one\n${'x'.repeat(10_000)}`);
    expect(excerpt.startsWith('line one xxx')).toBe(true);
    expect(excerpt.length).toBe(EXCERPT_CHARS + 3);
  });

  it('redacts credentials a receiver echoes: key-value pairs, bearer tokens, JWTs and URLs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const excerpt = bodyExcerpt(
      `{"access_token":"tok-123","password": "hunter2","id":7} Authorization: Bearer abcdefgh12345678 ${jwt} see https://u:p@x.example/?k=v api_key=zzz999`,
    );
    expect(excerpt).not.toMatch(/tok-123|hunter2|abcdefgh12345678|eyJhbGci|u:p@|k=v|zzz999/);
    expect(excerpt).toContain('"id":7');
    expect(excerpt).toContain('"access_token":"[redacted]"');
  });
});
