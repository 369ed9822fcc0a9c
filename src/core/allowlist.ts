import { BlockList, isIP } from 'node:net';

/**
 * VIGIL_WEBHOOK_ALLOW: the exceptions to "outbound requests go to public
 * addresses only", for receivers an operator knowingly runs inside the
 * network. Entries are host names or IP literals (any port), host:port (that
 * port only), or CIDR ranges (any host resolving into the range).
 */
export interface OutboundAllowlist {
  /** The URL's host (and port) is named in the list: every address it resolves to is accepted. */
  allowsHost(url: URL): boolean;
  /** The address lies in a listed CIDR range. */
  allowsAddress(ip: string): boolean;
}

type AllowEntry =
  | { kind: 'host'; hostname: string; port: string | undefined }
  | { kind: 'cidr'; network: string; prefix: number; family: 'ipv4' | 'ipv6' };

/** Parses one entry; throws an Error saying what is wrong, for the configuration's problem list. */
export function parseAllowEntry(entry: string): AllowEntry {
  if (entry.includes('://')) throw new Error(`"${entry}" is a URL: give its host, or host:port`);
  const slash = entry.indexOf('/');
  if (slash >= 0) return parseCidr(entry, slash);
  // A bare IPv6 address (::1) is taken as the bracketed host it stands for.
  const text = isIP(entry) === 6 ? `[${entry}]` : entry;
  let url: URL;
  try {
    url = new URL(`http://${text}`);
  } catch {
    throw new Error(`"${entry}" is not a host name, host:port or CIDR range`);
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new Error(`"${entry}" is not a host name, host:port or CIDR range`);
  }
  // URL drops a port equal to the scheme's default (80), so the written port is read from the entry itself.
  const written = /:(\d{1,5})$/.exec(text.endsWith(']') ? '' : text)?.[1];
  if (written !== undefined && Number(written) > 65535) throw new Error(`"${entry}" has a port above 65535`);
  return { kind: 'host', hostname: normalizeHostname(url.hostname), port: written === undefined ? undefined : String(Number(written)) };
}

function parseCidr(entry: string, slash: number): AllowEntry {
  const network = entry.slice(0, slash).replace(/^\[(.*)\]$/, '$1');
  const prefixText = entry.slice(slash + 1);
  const family = isIP(network);
  const prefix = Number(prefixText);
  const maxPrefix = family === 4 ? 32 : 128;
  if (family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) {
    throw new Error(`"${entry}" is not a CIDR range such as 10.1.0.0/16 or fd00:1::/64`);
  }
  return { kind: 'cidr', network, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** Lower case without a trailing dot: "Hooks.Internal." and "hooks.internal" are one host. */
function normalizeHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

function effectivePort(url: URL): string {
  if (url.port) return url.port;
  return url.protocol === 'https:' ? '443' : '80';
}

/** Builds the matcher from the configured entries (validated by loadConfig, so parsing does not fail here). */
export function compileAllowlist(entries: readonly string[]): OutboundAllowlist {
  const hosts: Extract<AllowEntry, { kind: 'host' }>[] = [];
  const ranges = new BlockList();
  for (const entry of entries) {
    const parsed = parseAllowEntry(entry);
    if (parsed.kind === 'host') hosts.push(parsed);
    else ranges.addSubnet(parsed.network, parsed.prefix, parsed.family);
  }
  return {
    allowsHost: (url) => {
      const hostname = normalizeHostname(url.hostname);
      const port = effectivePort(url);
      return hosts.some((h) => h.hostname === hostname && (h.port === undefined || h.port === port));
    },
    allowsAddress: (ip) => {
      const bare = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
      const family = isIP(bare);
      return family !== 0 && ranges.check(bare, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** Nothing is an exception. */
export const EMPTY_ALLOWLIST: OutboundAllowlist = compileAllowlist([]);
