import type { OptionsConfig } from './args.ts';
import type { Parsed } from './args.ts';

/** Where a command writes: the console in use, captured lines in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Whether stdout is a terminal (progress bars are drawn only then). */
  isTTY: boolean;
}

export const consoleIo: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  get isTTY() {
    return process.stdout.isTTY === true;
  },
};

/** One `vigil ...` command: the words that select it, its help and its handler. */
export interface Command {
  /** e.g. ['keys', 'list']. */
  words: string[];
  /** One line for `vigil help`. */
  summary: string;
  /** The synopsis, e.g. `vigil keys revoke ID [--json]`. */
  usage: string;
  /** Option descriptions and notes shown by `--help`, without the synopsis. */
  details?: string;
  /** Its options; --help/-h is added to every command. */
  options: OptionsConfig;
  /** Positional arguments after the command words it accepts (default 0). */
  positionals?: number;
  /** Resolves with the exit code: 0 done, 1 failed, 2 bad usage. */
  run(parsed: Parsed, io: CliIo): Promise<number>;
}

export const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies OptionsConfig;

/** Text of `vigil <command> --help`. */
export function commandHelp(command: Command): string {
  return `Usage: ${command.usage}\n\n${command.summary}${command.details ? `\n\n${command.details}` : ''}`;
}
