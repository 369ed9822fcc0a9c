import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress, describeAddress } from './address-class.ts';
import type { OutboundAllowlist } from '../core/allowlist.ts';

/**
 * Decides whether an outbound request may go where a user aimed it: twice,
 * because DNS can change in between. When a runbook is registered (the user
 * hears at once), and again at send time inside the connection's own lookup,
 * so the address checked is the address connected to: a name that answered a
 * public address at registration and a private one now (DNS rebinding) is
 * refused, and nothing resolves the name a second time after the check.
 */

export const ALLOW_HINT = 'add the host to VIGIL_WEBHOOK_ALLOW to allow it';

/** Resolves a host name to all its addresses: the system resolver in service, a fake one in tests. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** What the guard needs: the exceptions and how names are resolved. */
export interface OutboundPolicy {
  allow: OutboundAllowlist;
  resolve: Resolver;
}

/** A request refused by the guard: final, since trying again reaches the same place. */
export class OutboundRefusedError extends Error {
  readonly code = 'VIGIL_OUTBOUND_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

/** The URL's host as an IP address without brackets, or undefined for a name. */
function literalAddress(url: URL): string | undefined {
  const bare = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) === 0 ? undefined : bare;
}

function addressRefusal(ip: string, allow: OutboundAllowlist): string | null {
  if (allow.allowsAddress(ip)) return null;
  const verdict = classifyAddress(ip);
  return verdict && `resolves to ${describeAddress(verdict)}; ${ALLOW_HINT}`;
}

/**
 * Why addresses a name resolved to are refused, or null. One bad address
 * refuses them all: keeping the good ones would let a round-robin answer
 * smuggle an internal address in next time.
 */
export function resolvedRefusal(hostname: string, addresses: readonly LookupAddress[], allow: OutboundAllowlist): string | null {
  for (const { address } of addresses) {
    const reason = addressRefusal(address, allow);
    if (reason) return `${hostname} ${reason}`;
  }
  return null;
}

/**
 * Why the URL's host is refused before any connection, with no DNS: an IP
 * literal (the WHATWG parser has already turned 2130706433, 0x7f000001,
 * 0177.0.0.1 and 127.1 into 127.0.0.1) that is not public and not allowed.
 * Null for names and for acceptable addresses. Needed at send time too, since
 * a connection to an IP literal never calls the lookup.
 */
export function literalRefusal(url: URL, allow: OutboundAllowlist): string | null {
  const ip = literalAddress(url);
  if (ip === undefined || allow.allowsHost(url)) return null;
  return addressRefusal(ip, allow);
}

/**
 * The registration check: literal addresses, and names resolved now. A name
 * that does not resolve (yet), or not within `timeoutMs`, is accepted: the
 * send-time lookup judges whatever it resolves to then.
 */
export async function targetRefusal(url: URL, policy: OutboundPolicy, timeoutMs = 3000): Promise<string | null> {
  if (literalAddress(url) !== undefined) return literalRefusal(url, policy.allow);
  if (policy.allow.allowsHost(url)) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    const addresses = await Promise.race([policy.resolve(url.hostname), timeout]);
    return addresses ? resolvedRefusal(url.hostname, addresses, policy.allow) : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A `lookup` for net.connect / undici's `connect` options: resolves once,
 * refuses when any address is not allowed, and hands the connection exactly
 * the addresses it checked. `trustedHost`: the URL's host is on the
 * allowlist, so its addresses are accepted whatever they are.
 */
export function guardedLookup(policy: OutboundPolicy, trustedHost: boolean): LookupFunction {
  return (hostname, options, callback) => {
    policy.resolve(hostname).then(
      (addresses) => {
        const refusal = trustedHost ? null : resolvedRefusal(hostname, addresses, policy.allow);
        if (refusal) {
          callback(new OutboundRefusedError(refusal), '', 0);
          return;
        }
        const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
        const first = usable[0];
        if (!first) {
          callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', 0);
          return;
        }
        if (options.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
