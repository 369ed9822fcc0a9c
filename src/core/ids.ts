import { randomBytes } from 'node:crypto';

/**
 * Node ids carry their type as a prefix ("str_", "det_", ...) so `node(id)`
 * can dispatch without a lookup, and a time-ordered body so ordering by id is
 * ordering by creation: that makes id-based Relay cursors stable.
 */
export const ID_PREFIX = {
  Stream: 'str',
  Detector: 'det',
  Sla: 'sla',
  Runbook: 'rbk',
  RunbookExecution: 'exe',
  Anomaly: 'ano',
  Incident: 'inc',
  DeadLetter: 'dlq',
  ApiKey: 'key',
  AuditEntry: 'aud',
  Silence: 'sil',
} as const;

export type NodeTypeName = keyof typeof ID_PREFIX;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 10 characters of millisecond time then 16 random ones, in Crockford base32 (the ULID layout). */
export function timeOrderedId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(16);
  let rest = '';
  for (const byte of random) rest += CROCKFORD[byte % 32];
  return time + rest;
}

export function newId(type: NodeTypeName, now?: number): string {
  return `${ID_PREFIX[type]}_${timeOrderedId(now)}`;
}

export function nodeTypeOf(id: string): NodeTypeName | undefined {
  const separator = id.indexOf('_');
  if (separator < 0) return undefined;
  const prefix = id.slice(0, separator);
  return (Object.keys(ID_PREFIX) as NodeTypeName[]).find((type) => ID_PREFIX[type] === prefix);
}
