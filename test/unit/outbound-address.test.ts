import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.ts';
import { classifyAddress, describeAddress } from '../../src/outbound/address-class.ts';
import { compileAllowlist, EMPTY_ALLOWLIST, parseAllowEntry } from '../../src/core/allowlist.ts';
import { literalRefusal } from '../../src/outbound/target-guard.ts';

/** What the guard says about a webhook URL's host with no allowlist: null when it may be reached. */
const refusalOf = (url: string, allow = EMPTY_ALLOWLIST) => literalRefusal(new URL(url), allow);

describe('classifyAddress: every non-public IPv4 range', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)?.kind).toBe(kind);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0', '169.253.0.1', '223.255.255.255', '192.0.3.1'])(
    '%s, next to the ranges, is public',
    (ip) => {
      expect(classifyAddress(ip)).toBeNull();
    },
  );
});

describe('classifyAddress: IPv6', () => {
  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456:789a::1', 'private'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'reserved'], // Teredo
    ['100::1', 'reserved'],
    ['64:ff9b:1::a00:1', 'private'],
    ['::7f00:1', 'reserved'], // IPv4-compatible, deprecated
    ['4000::1', 'reserved'], // outside global unicast 2000::/3
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)?.kind).toBe(kind);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback', '::ffff:7f00:1 (127.0.0.1)'],
    ['::ffff:7f00:1', 'loopback', '::ffff:7f00:1 (127.0.0.1)'],
    ['::ffff:169.254.169.254', 'link-local', '::ffff:a9fe:a9fe (169.254.169.254)'],
    ['::ffff:10.0.0.1', 'private', '::ffff:a00:1 (10.0.0.1)'],
    ['64:ff9b::127.0.0.1', 'loopback', '64:ff9b::7f00:1 (127.0.0.1)'],
    ['64:ff9b::a9fe:a9fe', 'link-local', '64:ff9b::a9fe:a9fe (169.254.169.254)'],
    ['2002:7f00:1::1', 'loopback', '2002:7f00:1::1 (127.0.0.1)'],
    ['2002:c0a8:101::1', 'private', '2002:c0a8:101::1 (192.168.1.1)'],
  ])('%s carries an IPv4 address and is judged by it: %s', (ip, kind, shown) => {
    expect(classifyAddress(ip)).toEqual({ address: shown, kind });
  });

  it.each(['2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is public', (ip) => {
    expect(classifyAddress(ip)).toBeNull();
  });

  it('throws on anything that is not an address: a host name must be resolved first', () => {
    expect(() => classifyAddress('localhost')).toThrow(TypeError);
  });

  it('describes an address for a refusal message', () => {
    expect(describeAddress(classifyAddress('127.0.0.1')!)).toBe('127.0.0.1, a loopback address');
    expect(describeAddress(classifyAddress('0.0.0.0')!)).toBe('0.0.0.0, an unspecified address');
  });
});

describe('literalRefusal: loopback in every encoding a URL accepts', () => {
  it.each([
    'http://127.0.0.1/hook',
    'http://2130706433/hook', // decimal
    'http://0x7f000001/hook', // hex
    'http://0177.0.0.1/hook', // octal
    'http://127.1/hook', // short form
    'http://0x7f.1/hook',
    'http://127.0.0.1./hook', // trailing dot
    'http://%31%32%37.0.0.1/hook', // percent-encoded
    'http://①②⑦.0.0.1/hook', // full-width digits, folded by IDNA
    'https://[::1]:8443/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://[64:ff9b::7f00:1]/hook',
  ])('%s is refused as loopback', (url) => {
    expect(refusalOf(url)).toMatch(/^resolves to (127\.0\.0\.1|::1|\S+ \(127\.0\.0\.1\)), a loopback address; add the host to VIGIL_WEBHOOK_ALLOW to allow it$/);
  });

  it.each([
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[fd00::1]/', 'private'],
    ['http://10.1.2.3:8080/', 'private'],
    ['http://100.64.1.1/', 'carrier-grade NAT'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://224.0.0.251/', 'multicast'],
  ])('%s is refused as %s', (url, kind) => {
    expect(refusalOf(url)).toContain(`a${kind.match(/^[aeiou]/) ? 'n' : ''} ${kind} address`);
  });

  it('leaves host names to the DNS check and lets public addresses through', () => {
    expect(refusalOf('http://localhost/')).toBeNull();
    expect(refusalOf('https://hooks.example.com/')).toBeNull();
    expect(refusalOf('https://93.184.215.14/')).toBeNull();
    expect(refusalOf('https://[2606:4700:4700::1111]/')).toBeNull();
  });
});

describe('VIGIL_WEBHOOK_ALLOW', () => {
  it('allows a listed host on any port, host:port on that port only, and addresses in a listed range', () => {
    const allow = compileAllowlist(['127.0.0.1:8080', 'Hooks.Internal', '[::1]', '10.20.0.0/16', 'fd00:1::/32']);
    expect(refusalOf('http://127.0.0.1:8080/x', allow)).toBeNull();
    expect(refusalOf('http://2130706433:8080/x', allow)).toBeNull();
    expect(refusalOf('http://127.0.0.1:8081/x', allow)).toContain('loopback');
    expect(refusalOf('http://127.0.0.1/x', allow)).toContain('loopback');
    expect(refusalOf('http://[::1]:9/x', allow)).toBeNull();
    expect(refusalOf('http://10.20.3.4/x', allow)).toBeNull();
    expect(refusalOf('http://10.21.3.4/x', allow)).toContain('private');
    expect(refusalOf('http://[fd00:1::5]/x', allow)).toBeNull();
    expect(allow.allowsHost(new URL('https://hooks.internal./x'))).toBe(true);
    expect(allow.allowsHost(new URL('https://other.internal/x'))).toBe(false);
    expect(allow.allowsAddress('10.20.255.1')).toBe(true);
    expect(allow.allowsAddress('10.19.0.1')).toBe(false);
  });

  it('reads an explicit default port as a port, and a bare IPv6 address as a host', () => {
    const allow = compileAllowlist(['hooks.internal:80', '::1']);
    expect(allow.allowsHost(new URL('http://hooks.internal/x'))).toBe(true);
    expect(allow.allowsHost(new URL('https://hooks.internal/x'))).toBe(false);
    expect(allow.allowsHost(new URL('http://[::1]:1234/x'))).toBe(true);
  });

  it.each(['http://x', 'host/path', '10.0.0.0/33', 'not a host', 'a:99999', '10.0.0.0/x', 'user@host'])('refuses the entry %s', (entry) => {
    expect(() => parseAllowEntry(entry)).toThrow(/is not|is a URL|port above/);
  });

  it('is read by loadConfig as a trimmed list, empty by default, and a bad entry stops the start', () => {
    expect(loadConfig({}).webhookAllow).toEqual([]);
    expect(loadConfig({ VIGIL_WEBHOOK_ALLOW: ' hooks.internal , 10.0.0.0/8,,127.0.0.1:9000 ' }).webhookAllow).toEqual([
      'hooks.internal',
      '10.0.0.0/8',
      '127.0.0.1:9000',
    ]);
    expect(() => loadConfig({ VIGIL_WEBHOOK_ALLOW: 'hooks.internal,10.0.0.0/40' })).toThrow(ConfigError);
    expect(() => loadConfig({ VIGIL_WEBHOOK_ALLOW: 'https://hooks.internal/x' })).toThrow(
      'VIGIL_WEBHOOK_ALLOW entry "https://hooks.internal/x" is a URL: give its host, or host:port',
    );
  });
});
