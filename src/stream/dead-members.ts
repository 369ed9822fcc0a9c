import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** What a consumer leaves in the state dir while it is a member of its group. */
export interface MemberRecord {
  host: string;
  pid: number;
  /** Made once per process: a process restarted under the same pid (pid 1 in a container) is not the one that recorded. */
  instance: string;
  memberId: string;
}

/** This process's `instance`. */
export const THIS_INSTANCE = randomUUID();

/** Whether a process of this host is still running (a zombie counts as running: it is not evicted). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The members whose process is gone: recorded on this host by a process that
 * no longer runs, or under this process's pid by an earlier process. A record
 * of another host says nothing about its process (the state dir may be
 * shared), and a running process keeps its member.
 */
export function deadMembers(
  records: readonly { name: string; record: MemberRecord }[],
  self: { host: string; pid: number; instance: string },
  alive: (pid: number) => boolean,
): { name: string; memberId: string }[] {
  const gone = (record: MemberRecord) => (record.pid === self.pid ? record.instance !== self.instance : !alive(record.pid));
  return records.filter(({ record }) => record.host === self.host && gone(record)).map(({ name, record }) => ({ name, memberId: record.memberId }));
}

/**
 * The Kafka group members this host's consumers hold, one file each, in a
 * directory per group under the state dir. A worker that dies without leaving
 * its group (SIGKILL, out of memory, a lost host) keeps its partitions until
 * its session times out (VIGIL_SESSION_TIMEOUT_MS, 10 s): its successor reads
 * the dead process's record and removes that member at once (kafka-leave-group.ts).
 */
export class MemberRecords {
  constructor(
    readonly dir: string,
    private readonly host = hostname(),
    private readonly alive: (pid: number) => boolean = processAlive,
  ) {}

  static forGroup(stateDir: string, groupId: string): MemberRecords {
    // Group names may hold any character; the directory's name must not.
    return new MemberRecords(join(stateDir, 'kafka-members', createHash('sha256').update(groupId).digest('hex').slice(0, 32)));
  }

  /** Records (or replaces) the member `name` holds now. Written whole, then renamed: a reader never sees half a record. */
  async remember(name: string, memberId: string): Promise<void> {
    const record: MemberRecord = { host: this.host, pid: process.pid, instance: THIS_INSTANCE, memberId };
    const path = join(this.dir, `${name}.json`);
    const write = async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(`${path}.tmp`, JSON.stringify(record));
      await rename(`${path}.tmp`, path);
    };
    // Once more if the directory went away in between: another consumer's forget removed it as empty.
    await write().catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? write() : Promise.reject(error)));
  }

  /** Deletes the record, and the group's directory once no record is left, so groups that come and go leave nothing behind. */
  async forget(name: string): Promise<void> {
    await rm(join(this.dir, `${name}.json`), { force: true });
    await rmdir(this.dir).catch(() => undefined);
  }

  /** The members of processes of this host that are gone. Unreadable records are skipped: they are someone's half-written file or not ours. */
  async ofDeadProcesses(): Promise<{ name: string; memberId: string }[]> {
    const files = await readdir(this.dir).catch(() => [] as string[]);
    const records: { name: string; record: MemberRecord }[] = [];
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const record = await readFile(join(this.dir, file), 'utf8').then(parseRecord, () => undefined);
      if (record) records.push({ name: file.slice(0, -'.json'.length), record });
    }
    return deadMembers(records, { host: this.host, pid: process.pid, instance: THIS_INSTANCE }, this.alive);
  }
}

function parseRecord(text: string): MemberRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<MemberRecord>;
    const complete = typeof value.host === 'string' && Number.isInteger(value.pid) && typeof value.instance === 'string' && typeof value.memberId === 'string';
    return complete ? (value as MemberRecord) : undefined;
  } catch {
    return undefined;
  }
}
