import type { ParamSpec } from './param-checks.ts';

/**
 * What values a setting accepts, in one short line ("number > 0, <= 1",
 * "WEIGHTED, VOTE", "string, length >= 1, <= 100"), written from its spec.
 * The API's setting descriptions and the generated tables of docs/api.md both
 * use it, so a reader sees the same words in both. Settings checked by a
 * spec's own `check` say the rest in their description.
 */
export function acceptedValues(spec: ParamSpec): string {
  if (spec.type === 'enum' && spec.values) return spec.values.join(', ');
  const low = spec.min === undefined ? '' : `${spec.exclusiveMin ? '>' : '>='} ${spec.min}`;
  const high = spec.max === undefined ? '' : `<= ${spec.max}`;
  const range = [low, high].filter((part) => part !== '').join(', ');
  if (spec.type === 'string') return range === '' ? 'string' : `string, length ${range}`;
  const nullable = spec.nullable ? ' or null' : '';
  return range === '' ? `${spec.type}${nullable}` : `${spec.type} ${range}${nullable}`;
}

/** Whether a setting left out is stored as a fixed default (false: it is required, or off, or computed from other settings). */
export function hasFixedDefault(spec: ParamSpec): boolean {
  return !spec.required && 'default' in spec;
}
