import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deadMembers, MemberRecords, THIS_INSTANCE, type MemberRecord } from '../../src/stream/dead-members.ts';

const self = { host: 'vm-1', pid: 100, instance: 'me' };
const alive = (pid: number) => pid === 100 || pid === 200;
const entry = (name: string, over: Partial<MemberRecord>) => ({ name, record: { host: 'vm-1', pid: 300, instance: 'i', memberId: `m-${name}`, ...over } });

describe('which recorded group members belong to dead processes', () => {
  it('those of this host whose process no longer runs, or that an earlier process recorded under this pid', () => {
    const records = [
      entry('gone', { pid: 300 }),
      entry('running', { pid: 200 }),
      entry('mine', { pid: 100, instance: 'me' }),
      entry('same-pid-before-a-restart', { pid: 100, instance: 'earlier' }),
      entry('other-host', { host: 'vm-2', pid: 300 }),
    ];
    expect(deadMembers(records, self, alive)).toEqual([
      { name: 'gone', memberId: 'm-gone' },
      { name: 'same-pid-before-a-restart', memberId: 'm-same-pid-before-a-restart' },
    ]);
  });
});

describe('MemberRecords', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records, replaces and forgets a member, and skips files that are not whole records', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-members-'));
    const records = new MemberRecords(dir, 'vm-1', () => false);
    await records.remember('a', 'member-1');
    await records.remember('a', 'member-2');
    await writeFile(join(dir, 'half.json'), '{"host":"vm-1","pid":');
    await writeFile(join(dir, 'dead.json'), JSON.stringify({ host: 'vm-1', pid: 999_999, instance: 'x', memberId: 'member-dead' }));
    // Its own record is this process's (same pid and instance): never dead, whatever `alive` says.
    expect(await records.ofDeadProcesses()).toEqual([{ name: 'dead', memberId: 'member-dead' }]);
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'dead.json', 'half.json']);
    await records.forget('a');
    await records.forget('a');
    expect((await readdir(dir)).sort()).toEqual(['dead.json', 'half.json']);
    // The last record forgotten takes the group's directory with it; a new record makes it again.
    await records.forget('dead');
    await records.forget('half');
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
    await records.remember('b', 'member-3');
    expect(await readdir(dir)).toEqual(['b.json']);
    expect(THIS_INSTANCE).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('finds nothing when no member was ever recorded', async () => {
    expect(await new MemberRecords(join(tmpdir(), 'vigil-members-never-made')).ofDeadProcesses()).toEqual([]);
  });

  it('keeps each group apart, whatever characters its name holds', () => {
    const a = MemberRecords.forGroup('/state', 'vigil.streams(a*,b)');
    const b = MemberRecords.forGroup('/state', 'vigil.streams(a*)');
    expect(a.dir).toMatch(/^\/state\/kafka-members\/[0-9a-f]{32}$/);
    expect(a.dir).not.toBe(b.dir);
  });
});
