import { readFileSync } from 'node:fs';

/**
 * CPU time of this process's main thread, in µs, from /proc (Linux only;
 * undefined elsewhere). process.cpuUsage() counts every thread: the rest of
 * a worker's CPU is V8's garbage collector and compiler threads and libuv's
 * pool, which a profile of the main thread does not show.
 */
export function mainThreadMicros(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th, in clock ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}
