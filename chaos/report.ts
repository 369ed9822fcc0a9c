/**
 * The suite's verdicts and printout: one block per scenario as it ends, then
 * a table of all of them. The bar, per scenario:
 *   - 0 missing and 0 doubled anomalies (against the spikes the topics hold), none unexpected;
 *   - one incident per expected group, none doubled;
 *   - 0 subscriber gaps: every committed anomaly pushed to the subscriber (after resuming, when it can);
 *   - no partition stalled: every committed offset reaches the broker's end offset after the traffic stops;
 *   - the first new commit within 15 s of every fault's end (the broker's own restart time aside:
 *     the Kafka fault ends when the broker answers again);
 *   - the scenario's own checks (healthy stream latency, runbook executions and webhooks).
 */
import { fmt, type ScenarioResult } from './scenario.ts';
import { percentile } from './measure.ts';

export const COMMIT_BAR_SECONDS = 15;

export function failures(r: ScenarioResult): string[] {
  const out: string[] = [];
  if (r.error) out.push(`aborted: ${r.error.split('\n')[0]}`);
  if (r.missing > 0) out.push(`${r.missing} anomalies missing`);
  if (r.doubled > 0) out.push(`${r.doubled} anomalies doubled`);
  if (r.unexpected > 0) out.push(`${r.unexpected} unexpected anomalies`);
  if (r.incidentsDoubled > 0) out.push(`${r.incidentsDoubled} incidents doubled`);
  if (r.incidentsFound < r.incidentsExpected) out.push(`${r.incidentsExpected - r.incidentsFound} incidents missing`);
  if (r.subscriber.missed > 0) {
    out.push(`subscriber ${r.subscriber.resumable ? 'gaps after resume' : 'missed pushes (no resume argument)'}: ${r.subscriber.missed}`);
  }
  if (r.stalled.length > 0) out.push(`stalled: ${r.stalled.join(', ')}`);
  const slow = r.recoveries.filter((x) => x.commitSeconds === undefined || x.commitSeconds > COMMIT_BAR_SECONDS);
  if (slow.length > 0) out.push(`first commit over ${COMMIT_BAR_SECONDS} s after ${slow.length} of ${r.recoveries.length} faults (worst ${fmt(worst(slow.map((x) => x.commitSeconds)))} s)`);
  for (const c of r.checks) if (!c.pass) out.push(`${c.name}: ${c.detail}`);
  return out;
}

function worst(values: (number | undefined)[]): number | undefined {
  return values.some((v) => v === undefined) ? undefined : Math.max(...(values as number[]));
}

/** "3.2" for one fault; "p50 3.2 / max 4.1" over several. */
function spread(values: (number | undefined)[]): string {
  if (values.length === 0) return 'n/a';
  if (values.length === 1) return fmt(values[0]);
  const known = values.filter((v): v is number => v !== undefined);
  return `p50 ${fmt(percentile(known, 50))} / max ${fmt(worst(values))}`;
}

export function block(r: ScenarioResult): string {
  const lines: [string, string][] = [
    ['events in the topics', `${r.events.toLocaleString('en-US')} (${r.topicDuplicates} producer duplicates), ${r.seconds.toFixed(0)} s`],
    ['anomalies', `expected ${r.expected}, found ${r.found}, missing ${r.missing}, doubled ${r.doubled}, unexpected ${r.unexpected}`],
    ['incidents', `expected ${r.incidentsExpected}, found ${r.incidentsFound}, doubled ${r.incidentsDoubled}`],
    ['fault end -> /readyz 200', `${spread(r.recoveries.map((x) => x.readySeconds))} s (${r.recoveries.length} faults)`],
    ['fault end -> first commit', `${spread(r.recoveries.map((x) => x.commitSeconds))} s`],
    [
      'subscriber',
      `${r.subscriber.resumable ? 'resumes with a cursor' : 'no resume argument'}; received ${r.subscriber.received}, ` +
        `${r.subscriber.resumable ? 'gaps after resume' : 'missed'} ${r.subscriber.missed}, replayed ${r.subscriber.replayed}, ` +
        `duplicate pushes ${r.subscriber.duplicates}, reconnects ${r.subscriber.reconnects}`,
    ],
    ['partitions stalled', r.stalled.length === 0 ? 'none' : r.stalled.join(', ')],
    ...r.notes,
    ...r.checks.map((c): [string, string] => [`check: ${c.name}`, `${c.pass ? 'ok' : 'FAIL'} (${c.detail})`]),
  ];
  if (r.recoveries.length > 1) {
    lines.push(['per fault (ready/commit s)', r.recoveries.map((x) => `${fmt(x.readySeconds)}/${fmt(x.commitSeconds)}`).join(' ')]);
  }
  const failed = failures(r);
  lines.push(['verdict', failed.length === 0 ? 'PASS' : `FAIL: ${failed.join('; ')}`]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return [`== ${r.id}: ${r.title}`, ...lines.map(([k, v]) => `   ${k.padEnd(width)}  ${v}`)].join('\n');
}

export function table(results: ScenarioResult[]): string {
  const header = ['scenario', 'expected', 'found', 'missing', 'doubled', 'inc. doubled', 'webhooks calls/keys', 'readyz s', 'first commit s', 'sub. missed/replayed', 'stalled', 'bar'];
  const rows = results.map((r) => {
    const webhook = r.notes.find(([k]) => k === 'webhook calls / distinct keys')?.[1] ?? '-';
    return [
      r.id,
      String(r.expected),
      String(r.found),
      String(r.missing),
      String(r.doubled),
      String(r.incidentsDoubled),
      webhook,
      spread(r.recoveries.map((x) => x.readySeconds)),
      spread(r.recoveries.map((x) => x.commitSeconds)),
      `${r.subscriber.missed}/${r.subscriber.replayed}`,
      String(r.stalled.length),
      failures(r).length === 0 ? 'PASS' : 'FAIL',
    ];
  });
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
