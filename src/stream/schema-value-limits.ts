import { at, show, type Schema } from './schema-json-values.ts';

/**
 * The value limits of a schema (numeric bounds, sizes, multipleOf, unique
 * items, pattern and format) compared between two versions: each reports
 * what the new schema refuses that the old one accepted.
 */

interface Bound {
  value: number;
  exclusive: boolean;
  keyword: string;
}

export function compareBounds(o: Schema, n: Schema, path: string, out: string[]): void {
  for (const side of ['lower', 'upper'] as const) {
    const was = bound(o, side);
    const now = bound(n, side);
    if (!now) continue;
    const sign = side === 'lower' ? 1 : -1;
    // Positive when the new bound is stricter than the old one.
    const tighter = !was || sign * (now.value - was.value) > 0 || (now.value === was.value && now.exclusive && !was.exclusive);
    if (tighter) {
      out.push(`${at(path, now.keyword)}: ${side} bound tightened (was ${showBound(was, side)}, now ${showBound(now, side)})`);
    }
  }
}

function bound(s: Schema, side: 'lower' | 'upper'): Bound | undefined {
  const [inclusiveKey, exclusiveKey] = side === 'lower' ? ['minimum', 'exclusiveMinimum'] : ['maximum', 'exclusiveMaximum'];
  const candidates: Bound[] = [];
  if (typeof s[inclusiveKey] === 'number') candidates.push({ value: s[inclusiveKey], exclusive: false, keyword: inclusiveKey });
  if (typeof s[exclusiveKey] === 'number') candidates.push({ value: s[exclusiveKey], exclusive: true, keyword: exclusiveKey });
  const sign = side === 'lower' ? 1 : -1;
  let best: Bound | undefined;
  for (const c of candidates) {
    if (!best || sign * (c.value - best.value) > 0 || (c.value === best.value && c.exclusive)) best = c;
  }
  return best;
}

function showBound(b: Bound | undefined, side: 'lower' | 'upper'): string {
  if (!b) return 'none';
  const op = side === 'lower' ? (b.exclusive ? '>' : '>=') : b.exclusive ? '<' : '<=';
  return `${op} ${b.value}`;
}

export function compareSizes(o: Schema, n: Schema, path: string, out: string[]): void {
  for (const keyword of ['minLength', 'minItems', 'minProperties']) {
    const now = n[keyword];
    const was = typeof o[keyword] === 'number' ? o[keyword] : 0;
    if (typeof now === 'number' && now > was) out.push(`${at(path, keyword)}: tightened from ${was} to ${now}`);
  }
  for (const keyword of ['maxLength', 'maxItems', 'maxProperties']) {
    const now = n[keyword];
    const was = o[keyword];
    if (typeof now !== 'number') continue;
    if (typeof was !== 'number') out.push(`${at(path, keyword)}: newly limited to ${now}`);
    else if (now < was) out.push(`${at(path, keyword)}: tightened from ${was} to ${now}`);
  }
}

export function compareMisc(o: Schema, n: Schema, path: string, out: string[]): void {
  if (typeof n.multipleOf === 'number') {
    const was = o.multipleOf;
    // Multiples of 10 are still multiples of 5; the ratio test tolerates float noise like 0.3 / 0.1.
    const ratio = typeof was === 'number' ? was / n.multipleOf : Number.NaN;
    if (!(Math.abs(ratio - Math.round(ratio)) < 1e-9 && Math.round(ratio) >= 1)) {
      out.push(`${at(path, 'multipleOf')}: values must now be multiples of ${n.multipleOf} (was ${typeof was === 'number' ? `multiples of ${was}` : 'any'})`);
    }
  }
  if (n.uniqueItems === true && o.uniqueItems !== true) out.push(`${at(path, 'uniqueItems')}: arrays must now have unique items`);
  for (const keyword of ['pattern', 'format']) {
    if (n[keyword] !== undefined && n[keyword] !== o[keyword]) {
      out.push(
        `${at(path, keyword)}: changed from ${show(o[keyword])} to ${show(n[keyword])}; values accepted before may not match the new ${keyword}`,
      );
    }
  }
}
