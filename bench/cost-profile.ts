/**
 * A V8 CPU profile of this process while `work` runs (node:inspector), saved
 * as a .cpuprofile (Chrome DevTools, speedscope) and summed up by self time:
 * per function, and per source (an npm package, a src/ file, Node's own code).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SelfTime {
  name: string;
  /** The function's callers, most of its self time first (functions only). */
  callers?: string[];
  ms: number;
  /** Share of the profile's busy samples (idle left out). */
  share: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  functions: SelfTime[];
  sources: SelfTime[];
}

export async function profiled<T>(file: string, work: () => Promise<T>): Promise<{ result: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    let result: T;
    let profile: Profiler.Profile;
    try {
      result = await work();
    } finally {
      ({ profile } = await session.post('Profiler.stop'));
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
    return { result, summary: summarize(file, profile) };
  } finally {
    session.disconnect();
  }
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

function sourceOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(V8 builtins and native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const parts = path.slice(inModules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return relative(ROOT, path);
}

function where(frame: Profiler.ProfileNode['callFrame']): string {
  if (frame.url === '') return '';
  const source = sourceOf(frame.url, frame.functionName);
  const file = source.includes('/') || source.endsWith('.ts') ? source : `${source} ${frame.url.split('/').at(-1)}`;
  // tsx's transpiled src/ files report line 0: their name and file say enough.
  return frame.lineNumber > 0 ? ` ${file}:${frame.lineNumber + 1}` : ` ${file}`;
}

/** Self time from the samples: each sample's time delta goes to the node it landed in. */
export function summarize(file: string, profile: Profiler.Profile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const nameOf = (frame: Profiler.ProfileNode['callFrame']) => `${frame.functionName || '(anonymous)'}${where(frame)}`;
  const selfMicros = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A delta is the time before its sample; the next one is the time this sample stands for.
    const micros = deltas[i + 1] ?? deltas[i] ?? 0;
    selfMicros.set(samples[i]!, (selfMicros.get(samples[i]!) ?? 0) + micros);
  }
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += micros;
    const name = nameOf(frame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const parent = parents.get(id);
    const caller = parent === undefined ? '(root)' : nameOf(nodes.get(parent)!.callFrame);
    const byCaller = callers.get(name) ?? new Map<string, number>();
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + micros);
    callers.set(name, byCaller);
    const source = sourceOf(frame.url, frame.functionName);
    bySource.set(source, (bySource.get(source) ?? 0) + micros);
  }
  const top = (map: Map<string, number>, n: number): SelfTime[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, micros]) => ({ name, ms: micros / 1000, share: busy === 0 ? 0 : micros / busy }));
  const functions = top(byFunction, 15).map((f) => ({ ...f, callers: top(callers.get(f.name)!, 2).map((c) => c.name) }));
  return { file, busyMs: busy / 1000, functions, sources: top(bySource, 12) };
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const line = (s: SelfTime) =>
    `    ${s.ms.toFixed(0).padStart(6)} ms  ${(s.share * 100).toFixed(1).padStart(5)} %  ${s.name}${s.callers ? `  <- ${s.callers.join(', ')}` : ''}`;
  return [
    `${title}: ${summary.busyMs.toFixed(0)} ms busy (idle left out); profile ${relative(process.cwd(), summary.file)}`,
    '  top 15 functions by self time:',
    ...summary.functions.map(line),
    '  self time by source:',
    ...summary.sources.map(line),
  ].join('\n');
}
