/** Timestamp-like strings for property tests of code that reads timestamps: generated near the RFC 3339 shape, and mutated a character at a time. */

/** Characters a timestamp is made of, the separators ajv-formats splits at, and a few that never belong. */
const ALPHABET = ['0', '1', '2', '3', '5', '9', '-', ':', '.', 'T', 't', ' ', '\u00a0', '\u2028', '\n', 'Z', 'z', '+', 'x', '٣'];

export function generatedTimestamp(random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${String(pick(10_000)).padStart(4, '0')}-${two(pick(14))}-${two(pick(33))}`;
  const fraction = random() < 0.5 ? '' : `.${'9'.repeat(1 + pick(20))}`;
  const time = `${two(pick(26))}:${two(pick(62))}:${two(pick(63))}${fraction}`;
  const zones = ['Z', 'z', '', `+${two(pick(25))}:${two(pick(61))}`, `-${two(pick(25))}${two(pick(61))}`, `+${two(pick(25))}`];
  return `${date}${random() < 0.8 ? 'T' : ' '}${time}${zones[pick(zones.length)]}`;
}

export function mutatedTimestamp(text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1));
  const char = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
  const roll = random();
  if (roll < 0.4) return text.slice(0, at) + char + text.slice(at + 1);
  if (roll < 0.7) return text.slice(0, at) + char + text.slice(at);
  return text.slice(0, at) + text.slice(at + 1);
}
