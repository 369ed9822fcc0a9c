import { BlockList, isIP } from 'node:net';

/**
 * Which IP addresses are not on the public internet, for outbound requests a
 * user can aim (runbook webhooks): reaching one of these from inside our
 * network is server-side request forgery, whatever the address is called.
 * Ranges follow the IANA special-purpose registries for IPv4 and IPv6.
 * Pure: no DNS, no I/O.
 */
export type AddressKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade NAT'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'reserved';

type Family = 'ipv4' | 'ipv6';

/** Checked in order, first match wins: a narrow range must come before a wider one holding it. */
const IPV4_RANGES: readonly (readonly [AddressKind, string, number])[] = [
  ['unspecified', '0.0.0.0', 8], // "this network": many stacks connect 0.0.0.0 to the local host
  ['loopback', '127.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  ['carrier-grade NAT', '100.64.0.0', 10],
  ['link-local', '169.254.0.0', 16], // holds the cloud metadata service, 169.254.169.254
  ['reserved', '192.0.0.0', 24], // IETF protocol assignments
  ['documentation', '192.0.2.0', 24],
  ['reserved', '192.88.99.0', 24], // 6to4 relay anycast
  ['reserved', '198.18.0.0', 15], // benchmarking
  ['documentation', '198.51.100.0', 24],
  ['documentation', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['broadcast', '255.255.255.255', 32],
  ['reserved', '240.0.0.0', 4],
];

const IPV6_RANGES: readonly (readonly [AddressKind, string, number])[] = [
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['link-local', 'fe80::', 10],
  ['private', 'fec0::', 10], // site-local, deprecated but still routed inside some networks
  ['private', 'fc00::', 7], // unique local
  ['private', '64:ff9b:1::', 48], // local-use NAT64
  ['multicast', 'ff00::', 8],
  ['reserved', '100::', 64], // discard-only
  ['reserved', '2001::', 23], // IETF protocol assignments, Teredo among them
  ['documentation', '2001:db8::', 32],
  ['documentation', '3fff::', 20],
  ['reserved', '5f00::', 16], // SRv6 SIDs
];

function compile(family: Family, ranges: readonly (readonly [AddressKind, string, number])[]): (readonly [AddressKind, BlockList])[] {
  // One BlockList per range, so a match says which kind it is (BlockList.check only answers yes or no).
  return ranges.map(([kind, network, prefix]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return [kind, list] as const;
  });
}

const IPV4_LISTS = compile('ipv4', IPV4_RANGES);
const IPV6_LISTS = compile('ipv6', IPV6_RANGES);
// Global unicast today: an IPv6 address outside it is unassigned, hence not a public host.
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** What a non-public address is, for messages: "127.0.0.1, a loopback address". */
export interface NonPublicAddress {
  /** The address as connected to: IPv4 dotted quad, IPv6 in canonical compressed form. */
  address: string;
  kind: AddressKind;
}

/**
 * The kind of a non-public address, or null for a public one. Accepts IPv4,
 * IPv6 with or without brackets and a zone (fe80::1%eth0). IPv6 forms that
 * carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96,
 * 6to4 2002::/16) are judged by that IPv4 address, because that is where the
 * packets end up. Throws on anything that is not an IP address.
 */
export function classifyAddress(ip: string): NonPublicAddress | null {
  const bare = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return classifyIpv4(bare);
  if (family === 6) return classifyIpv6(canonicalIpv6(bare));
  throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
}

/** "127.0.0.1, a loopback address": what a refusal message says about an address. */
export function describeAddress({ address, kind }: NonPublicAddress): string {
  const article = /^[aeiou]/i.test(kind) ? 'an' : 'a';
  return `${address}, ${article} ${kind} address`;
}

function classifyIpv4(address: string): NonPublicAddress | null {
  for (const [kind, list] of IPV4_LISTS) if (list.check(address, 'ipv4')) return { address, kind };
  return null;
}

function classifyIpv6(address: string): NonPublicAddress | null {
  const groups = ipv6Groups(address);
  const embedded = embeddedIpv4(groups);
  if (embedded !== undefined) {
    const inner = classifyIpv4(embedded);
    // Named by the IPv6 address given, so the user recognises it, with the IPv4 one it reaches.
    return inner && { address: `${address} (${embedded})`, kind: inner.kind };
  }
  for (const [kind, list] of IPV6_LISTS) if (list.check(address, 'ipv6')) return { address, kind };
  return GLOBAL_UNICAST.check(address, 'ipv6') ? null : { address, kind: 'reserved' };
}

/** The IPv4 address an IPv6 one stands for (mapped, NAT64 well-known prefix, 6to4), if any. */
function embeddedIpv4(groups: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const isMapped = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff;
  const isNat64 = g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  if (isMapped || isNat64) return dottedQuad(g6, g7);
  if (g0 === 0x2002) return dottedQuad(g1, g2);
  return undefined;
}

function dottedQuad(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/**
 * The WHATWG URL parser's serialisation of an IPv6 address: lower case,
 * compressed, no embedded dotted quad (::ffff:127.0.0.1 -> ::ffff:7f00:1).
 */
export function canonicalIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** The eight 16-bit groups of a canonical IPv6 address. */
function ipv6Groups(canonical: string): number[] {
  const [head = '', tail] = canonical.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}
