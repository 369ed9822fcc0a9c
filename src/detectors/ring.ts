/**
 * A ring buffer kept in a plain JSON-serialisable object: `buf` grows to the
 * capacity, then `head` marks the oldest value, which the next push replaces.
 */
export interface Ring {
  buf: number[];
  head: number;
}

/**
 * Appends `value`; when the ring is full, replaces and returns the oldest
 * value, otherwise returns undefined.
 */
export function ringPush(ring: Ring, capacity: number, value: number): number | undefined {
  if (ring.buf.length < capacity) {
    ring.buf.push(value);
    return undefined;
  }
  const old = ring.buf[ring.head];
  ring.buf[ring.head] = value;
  ring.head = ring.head + 1 === capacity ? 0 : ring.head + 1;
  return old;
}
