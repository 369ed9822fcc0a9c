import { describe, expect, it } from 'vitest';
import { enumValue, integerValue, parseCommandLine, UsageError } from '../../src/cli/args.ts';
import type { CliIo } from '../../src/cli/command.ts';
import { COMMANDS, findCommand, main } from '../../src/cli/index.ts';
import { renderBar } from '../../src/cli/progress.ts';
import { replayStart } from '../../src/cli/replay.ts';
import { readFileSync } from 'node:fs';
import { parseClusters } from '../../dev/start-stopped.ts';
import { javaMajor } from '../../dev/packages.ts';

function captured(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, isTTY: false, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('vigil command line', () => {
  it.each([
    [['keys', 'create', '--bogus'], 'vigil keys create: unknown option --bogus (vigil keys create --help)'],
    [['keys', 'create', '--role'], 'vigil keys create: option --role needs a value (vigil keys create --help)'],
    [['keys', 'create', '--role', 'root', '--name', 'x'], 'vigil keys create: --role must be one of VIEWER, OPERATOR, ADMIN (got "root") (vigil keys create --help)'],
    [['keys', 'create', '--role', 'admin'], 'vigil keys create: --name is required (a label for the key, e.g. automation) (vigil keys create --help)'],
    [['keys', 'revoke'], 'vigil keys revoke: which key? give its id (see vigil keys list) (vigil keys revoke --help)'],
    [['keys', 'list', 'extra'], 'vigil keys list: unexpected argument: extra (vigil keys list --help)'],
    [['services', '--stop=yes'], 'vigil services: option --stop takes no value (vigil services --help)'],
    [['demo', '--minutes', '10'], 'vigil demo: --minutes must be a whole number from 40 to 1440 (got "10") (vigil demo --help)'],
    [['bench', 'nab', '--detector', 'nope'], 'vigil bench nab: --detector: must be one of ZSCORE, MAD, EWMA, SEASONAL, THRESHOLD, LIKELIHOOD, ENSEMBLE or all (got "nope") (vigil bench nab --help)'],
    [['keys', 'rotate'], 'vigil keys: unknown command "rotate" (keys create, keys list, keys revoke)'],
    [['frobnicate'], 'vigil: unknown command "frobnicate" (vigil help lists them)'],
  ])('%j: one line on stderr, exit 2, nothing on stdout', async (argv, line) => {
    const io = captured();
    expect(await main(argv, io)).toBe(2);
    expect(io.stderr).toEqual([line]);
    expect(io.stdout).toEqual([]);
  });

  it('every command answers --help and `vigil help <command>` with its usage, exit 0, without touching a service', async () => {
    for (const command of COMMANDS) {
      for (const argv of [[...command.words, '--help'], [...command.words, '-h'], ['help', ...command.words]]) {
        const io = captured();
        expect(await main(argv, io), argv.join(' ')).toBe(0);
        expect(io.stdout.join('\n')).toContain(`Usage: ${command.usage}`);
      }
    }
  });

  it('`vigil help` lists every command; no command at all prints the list on stderr and exits 2', async () => {
    const io = captured();
    expect(await main(['help'], io)).toBe(0);
    for (const command of COMMANDS) expect(io.stdout.join('\n')).toContain(command.words.join(' '));
    const bare = captured();
    expect(await main([], bare)).toBe(2);
    expect(bare.stderr.join('\n')).toContain('Usage: vigil <command>');
  });

  it('finds the longest command match and leaves the rest as arguments', () => {
    expect(findCommand(['keys', 'revoke', 'key_1'])).toMatchObject({ command: { words: ['keys', 'revoke'] }, rest: ['key_1'] });
    expect(findCommand(['keys'])).toBeUndefined();
  });

  it('enums take any case; numbers must be whole and in range', () => {
    expect(enumValue('role', 'admin', ['VIEWER', 'ADMIN'])).toBe('ADMIN');
    expect(enumValue('role', ' Viewer ', ['VIEWER', 'ADMIN'])).toBe('VIEWER');
    expect(() => enumValue('role', 'adm', ['VIEWER', 'ADMIN'])).toThrow(UsageError);
    expect(integerValue('port', '4099', 0, 65535)).toBe(4099);
    for (const bad of ['1.5', '70000', 'x', '', '-1']) expect(() => integerValue('port', bad, 0, 65535)).toThrow(UsageError);
  });

  it('parses options strictly', () => {
    const options = { json: { type: 'boolean' as const }, name: { type: 'string' as const } };
    expect(parseCommandLine(['--json', '--name', 'a'], options).values).toEqual({ json: true, name: 'a' });
    expect(() => parseCommandLine(['--jsn'], options)).toThrow('unknown option --jsn');
  });
});

describe('small pieces of the CLI and dev tooling', () => {
  it('draws a progress bar', () => {
    expect(renderBar(7, 20, 'events')).toBe('[##########..................]  35%  7/20  events');
    expect(renderBar(0, 0)).toContain('  0%');
    expect(renderBar(30, 20)).toContain('100%');
  });

  it('reads pg_lsclusters and java versions', () => {
    expect(parseClusters('15 main 5432 down postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log\n')).toEqual([
      { version: '15', name: 'main', port: 5432, status: 'down', owner: 'postgres', dataDir: '/var/lib/postgresql/15/main' },
    ]);
    expect(javaMajor('17.0.15')).toBe(17);
    expect(javaMajor('1.8.0_392')).toBe(8);
    expect(javaMajor('21')).toBe(21);
  });
});

describe('vigil replay --from', () => {
  it('takes an ISO time or a duration before now, and refuses the rest in one line', () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    expect(replayStart('2h', now).toISOString()).toBe('2025-03-01T10:00:00.000Z');
    expect(replayStart('30m', now).toISOString()).toBe('2025-03-01T11:30:00.000Z');
    expect(replayStart('2025-02-28T00:00:00Z', now).toISOString()).toBe('2025-02-28T00:00:00.000Z');
    for (const bad of ['2x', 'yesterday', '', '2025-13-45']) expect(() => replayStart(bad, now), bad).toThrow(UsageError);
    expect(() => replayStart('2025-03-02T00:00:00Z', now)).toThrow('--from is in the future');
  });
});

describe('docs/cli.md', () => {
  const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  it.each(COMMANDS.map((c) => [c.words.join(' '), c] as const))('documents vigil %s and every option it takes', (words, command) => {
    const section = doc.split(/^## /m).find((part) => part.startsWith(`vigil ${words}\n`));
    expect(section, `no "## vigil ${words}" section`).toBeDefined();
    for (const option of Object.keys(command.options)) expect(section, `--${option}`).toContain(`--${option}`);
  });
});

