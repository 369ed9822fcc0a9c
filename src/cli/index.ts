/**
 * The `vigil` command line: finds the command named by the leading words,
 * parses its options strictly (node:util parseArgs), and maps failures to
 * exit codes: 0 done, 1 failed, 2 bad usage or configuration (one line, no
 * stack trace).
 */
import { ConfigError } from '../core/config.ts';
import { VigilError } from '../core/errors.ts';
import { parseCommandLine, UsageError } from './args.ts';
import { benchCommands } from './bench.ts';
import { commandHelp, consoleIo, type CliIo, type Command } from './command.ts';
import { databaseCommands } from './database.ts';
import { demoCommands } from './demo.ts';
import { keyCommands } from './keys.ts';
import { replayCommands } from './replay.ts';
import { serveCommands } from './serve.ts';
import { servicesCommands } from './services.ts';

export const COMMANDS: readonly Command[] = [...serveCommands, ...servicesCommands, ...databaseCommands, ...keyCommands, ...replayCommands, ...demoCommands, ...benchCommands];

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(' ').length)) + 2;
  const lines = COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}${c.summary}`);
  return `Usage: vigil <command> [options]

${lines.join('\n')}

  vigil help <command> or vigil <command> --help shows a command's options.
Every command exits 0 when done, 1 when it failed, 2 on bad usage. Options that name
a choice (--role, --detector, ...) take it in any case. See docs/cli.md.`;
}

/** The command whose words start argv (longest match), and the rest of argv. */
export function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const command of COMMANDS) {
    if (command.words.every((word, i) => argv[i] === word) && command.words.length > (best?.words.length ?? 0)) best = command;
  }
  return best ? { command: best, rest: argv.slice(best.words.length) } : undefined;
}

/** Commands under a group word, e.g. `keys` -> keys create, keys list, keys revoke. */
function group(word: string | undefined): Command[] {
  return COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === word);
}

function groupHelp(commands: Command[]): string {
  return `Usage:\n${commands.map((c) => `  ${c.usage}\n      ${c.summary}`).join('\n')}`;
}

const wantsHelp = (args: readonly string[]) => args.includes('--help') || args.includes('-h');

/** Runs one command line; resolves with the exit code. Throws only unexpected errors. */
export async function main(argv: string[], io: CliIo = consoleIo): Promise<number> {
  const [first, ...others] = argv;
  if (first === undefined) {
    io.err(overview());
    return 2;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    if (others.length === 0) {
      io.out(overview());
      return 0;
    }
    const found = findCommand(others);
    if (found && found.rest.length === 0) {
      io.out(commandHelp(found.command));
      return 0;
    }
    if (!found && group(others[0]).length > 0 && others.length === 1) {
      io.out(groupHelp(group(others[0])));
      return 0;
    }
    io.err(`vigil help: no command "${others.join(' ')}" (vigil help lists them)`);
    return 2;
  }
  const found = findCommand(argv);
  if (!found) {
    const commands = group(first);
    if (commands.length > 0) {
      if (wantsHelp(others)) {
        io.out(groupHelp(commands));
        return 0;
      }
      const sub = others[0];
      io.err(`vigil ${first}: ${sub === undefined || sub.startsWith('-') ? 'which one?' : `unknown command "${sub}"`} (${commands.map((c) => c.words.join(' ')).join(', ')})`);
      return 2;
    }
    io.err(`vigil: unknown command "${first}" (vigil help lists them)`);
    return 2;
  }
  const { command, rest } = found;
  const name = `vigil ${command.words.join(' ')}`;
  if (wantsHelp(rest)) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(parseCommandLine(rest, command.options, command.positionals ?? 0), io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.err(`${name}: ${error.message.trim().replace(/\n+/g, '; ')} (${name} --help)`);
      return 2;
    }
    if (error instanceof VigilError) {
      // NOT_FOUND, CONFLICT and the like from the services: expected, so no stack trace.
      io.err(`${name}: ${error.message}`);
      return error.code === 'BAD_USER_INPUT' ? 2 : 1;
    }
    throw error;
  }
}

/** The process entry: sets the exit code; an unexpected error prints in full (it is a bug or an outage). */
export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
