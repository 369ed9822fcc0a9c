/** Reads a dotted path ("a.b") from a parsed event value; undefined when absent. */
export function propertyPath(value: unknown, path: string): unknown {
  return readPath(value, path.split('.'));
}

/** The same with the path split beforehand: the worker splits each field once, not once per event. */
export function readPath(value: unknown, parts: readonly string[]): unknown {
  let current: unknown = value;
  for (const part of parts) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
