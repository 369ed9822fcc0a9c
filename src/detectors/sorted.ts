/**
 * A sorted window over a plain number array: binary-search insert and
 * remove, median, and the median absolute deviation (MAD) found by binary
 * search in O(log w) without building the deviations.
 */

/** First index whose value is >= x (a.length when none). */
export function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts x keeping `a` sorted ascending. */
export function sortedInsert(a: number[], x: number): void {
  a.splice(lowerBound(a, x), 0, x);
}

/** Removes one occurrence of x; false when x is not in `a`. */
export function sortedRemove(a: number[], x: number): boolean {
  const i = lowerBound(a, x);
  if (i < a.length && a[i] === x) {
    a.splice(i, 1);
    return true;
  }
  return false;
}

/** Median of a non-empty sorted array (mean of the two middle values when the length is even). */
export function sortedMedian(a: readonly number[]): number {
  const n = a.length;
  const mid = n >>> 1;
  if (n % 2 === 1) return a[mid] as number;
  return ((a[mid - 1] as number) + (a[mid] as number)) / 2;
}

/**
 * Median of |a[i] - center| for a non-empty sorted array. The deviations of
 * the values below `center` and of those at or above it form two sorted
 * sequences; their k-th smallest element is found by binary search over how
 * many come from the first, O(log w). (No closures here: under tsx every
 * closure creation also pays for a keep-names wrapper.)
 */
export function sortedMad(a: readonly number[], center: number): number {
  const n = a.length;
  const p = lowerBound(a, center);
  const mid = n >>> 1;
  if (n % 2 === 1) return kthDeviation(a, center, p, mid);
  return (kthDeviation(a, center, p, mid - 1) + kthDeviation(a, center, p, mid)) / 2;
}

/**
 * The k-th smallest (0-based) |a[i] - center|, where p = lowerBound(a, center).
 * A[j] = center - a[p - 1 - j] (values below center, nearest first) and
 * B[j] = a[p + j] - center (values at or above it) are both ascending; the
 * search finds how many of the k + 1 smallest come from A.
 */
function kthDeviation(a: readonly number[], center: number, p: number, k: number): number {
  const nA = p;
  const nB = a.length - p;
  let lo = Math.max(0, k + 1 - nB);
  let hi = Math.min(k + 1, nA);
  while (lo < hi) {
    const i = (lo + hi) >>> 1;
    // A[i] < B[k - i]: the (i + 1)-th of A belongs among the k + 1 smallest, take more from A.
    if (center - (a[p - 1 - i] as number) < (a[p + k - i] as number) - center) lo = i + 1;
    else hi = i;
  }
  const j = k + 1 - lo;
  const fromA = lo > 0 ? center - (a[p - lo] as number) : -Infinity;
  const fromB = j > 0 ? (a[p + j - 1] as number) - center : -Infinity;
  return fromA > fromB ? fromA : fromB;
}
