import { parseArgs } from 'node:util';

/**
 * Bad usage of the command line: an unknown command or option, a missing or
 * malformed value. The entry prints its message as one line and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * node:util parseArgs in strict mode, with its errors turned into one-line
 * UsageErrors (its own messages name the option but end in advice about `--`
 * that does not fit here).
 */
export function parseCommandLine(args: string[], options: OptionsConfig, maxPositionals = 0): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals);
    throw new UsageError(`unexpected argument${extra.length === 1 ? '' : 's'}: ${extra.join(' ')}`);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

function describeParseError(error: Error & { code?: string }): string {
  const first = error.message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const option = /'([^']+)'/.exec(first)?.[1];
      return option ? `unknown option ${option}` : first;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return first.replace(/^Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing$/, 'option $1 needs a value').replace(/^Option '([^']+)' does not take an argument$/, 'option $1 takes no value');
    default:
      return first;
  }
}

/** The string value of an option, or undefined; a repeated option is a UsageError. */
export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  if (value === undefined || typeof value === 'boolean') return undefined;
  if (Array.isArray(value)) throw new UsageError(`--${name} given more than once`);
  return value;
}

export function requiredOption(parsed: Parsed, name: string, hint: string): string {
  const value = stringOption(parsed, name);
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required (${hint})`);
  return value;
}

/** A value of an enum, matched without regard to case (`--role admin` is ADMIN). */
export function enumValue<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  const match = allowed.find((candidate) => candidate.toLowerCase() === value.trim().toLowerCase());
  if (!match) throw new UsageError(`--${option} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  return match;
}

/** A whole number within [min, max]. */
export function integerValue(option: string, value: string, min: number, max: number): number {
  const number = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return number;
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

/** The options of one command, in node:util parseArgs' shape (its type is not exported under a name on Node 20's types). */
export type OptionsConfig = NonNullable<Parameters<typeof parseArgs>[0]>['options'] & object;
