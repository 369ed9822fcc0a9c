/**
 * Shape checks for detector state read back from a checkpoint, so a corrupt
 * or foreign state fails loudly instead of producing NaN scores.
 */

export class DetectorStateError extends Error {
  constructor(kind: string, message: string) {
    super(`${kind} detector state: ${message}`);
    this.name = 'DetectorStateError';
  }
}

export type Plain = Record<string, unknown>;

export function checkObject(kind: string, saved: unknown): Plain {
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) {
    throw new DetectorStateError(kind, 'expected an object');
  }
  return saved as Plain;
}

export function checkNumber(kind: string, o: Plain, key: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v))) {
    throw new DetectorStateError(kind, `${key} must be a finite ${opts.integer ? 'integer' : 'number'}`);
  }
  if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
    throw new DetectorStateError(kind, `${key} ${v} is out of range`);
  }
  return v;
}

export function checkNullableNumber(kind: string, o: Plain, key: string): number | null {
  if (o[key] === null) return null;
  return checkNumber(kind, o, key);
}

export function checkNumbers(kind: string, o: Plain, key: string, maxLength: number): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length > maxLength || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new DetectorStateError(kind, `${key} must be a list of at most ${maxLength} finite numbers`);
  }
  return v as number[];
}
