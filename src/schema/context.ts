import type { Logger } from 'pino';
import type { Principal } from '../core/principal.ts';
import type { Services } from '../services/container.ts';

/** What every resolver receives: the domain services and who is calling. */
export interface Context {
  services: Services;
  principal: Principal | null;
  /** Set when a credential was sent but refused; raised by the first guarded field. */
  authError: Error | null;
  log: Logger;
  /** The TCP peer: anonymous traffic and failed authentications are limited per address. */
  clientAddress: string;
  /** The caller's W3C traceparent header, continued into the events it publishes. */
  traceparent: string | null;
}
