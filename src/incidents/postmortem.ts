/**
 * A postmortem written from an incident's plain data: no I/O, no clock, so the
 * same incident always gives the same document (the console's download and the
 * `postmortem` query agree byte for byte).
 */

export interface PostmortemAnomaly {
  id: string;
  detectedAt: Date;
  eventTime: Date;
  seriesKey: string | null;
  field: string;
  value: number;
  severity: string;
  explanation: string;
  detectorName: string;
  detectorVersion: number;
  topic: string;
  partition: number;
  offset: string;
  schemaVersion: number;
  traceId: string | null;
  /** Set when the anomaly records an SLA breach. */
  slaName: string | null;
}

export interface PostmortemStep {
  index: number;
  action: string;
  status: string;
  attempts: number;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface PostmortemExecution {
  id: string;
  runbookName: string;
  status: string;
  requestedBy: string;
  approvedBy: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  verified: boolean | null;
  steps: PostmortemStep[];
}

export interface PostmortemInput {
  incident: {
    id: string;
    title: string;
    severity: string;
    status: string;
    openedAt: Date;
    acknowledgedAt: Date | null;
    resolvedAt: Date | null;
    anomalyCount: number;
  };
  streamName: string;
  /** The incident's anomalies, oldest first (possibly a bounded sample: anomalyCount is the total). */
  anomalies: PostmortemAnomaly[];
  events: { at: Date; kind: string; message: string; actor: string | null }[];
  executions: PostmortemExecution[];
}

export type TimelineSource = 'DETECTION' | 'INCIDENT' | 'RUNBOOK' | 'VERIFICATION' | 'SLA';

export interface PostmortemEntry {
  at: Date;
  source: TimelineSource;
  message: string;
  actor: string | null;
}

export interface Postmortem {
  summary: string;
  startedAt: Date;
  resolvedAt: Date | null;
  durationSeconds: number | null;
  anomalyCount: number;
  seriesAffected: string[];
  timeline: PostmortemEntry[];
  /** Null when no remediation ran; else true only when every execution that reported verification was verified. */
  remediationVerified: boolean | null;
  openQuestions: string[];
  markdown: string;
}

/** At most this many first-of-a-series detections in the timeline; the incident events list the rest. */
const MAX_DETECTION_ENTRIES = 20;

const VERIFICATION_KINDS = new Set(['VERIFIED', 'NOT_VERIFIED']);
const RUNBOOK_KINDS = new Set(['RUNBOOK_APPROVED', 'RUNBOOK_CANCELLED', 'RUNBOOK_FAILED', 'RUNBOOK_SKIPPED', 'STEP_FAILED', 'NOTIFIED']);

function sourceOfEvent(kind: string): TimelineSource {
  if (VERIFICATION_KINDS.has(kind)) return 'VERIFICATION';
  if (RUNBOOK_KINDS.has(kind)) return 'RUNBOOK';
  if (kind.startsWith('SLA')) return 'SLA';
  return 'INCIDENT';
}

const seriesName = (a: PostmortemAnomaly) => a.seriesKey ?? '(single series)';

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const parts: string[] = [];
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (!days && seconds % 60) parts.push(`${seconds % 60}s`);
  return parts.join(' ');
}

function detectionEntries(anomalies: PostmortemAnomaly[]): PostmortemEntry[] {
  const seen = new Set<string>();
  const entries: PostmortemEntry[] = [];
  for (const a of anomalies) {
    if (a.slaName) {
      entries.push({ at: a.detectedAt, source: 'SLA', message: `SLA ${a.slaName} breached: ${a.explanation}`, actor: null });
      continue;
    }
    const series = seriesName(a);
    if (seen.has(series) || seen.size >= MAX_DETECTION_ENTRIES) continue;
    seen.add(series);
    entries.push({
      at: a.detectedAt,
      source: 'DETECTION',
      message: `${a.detectorName} v${a.detectorVersion} flagged ${a.field} of ${series} (${a.severity}): ${a.explanation}`,
      actor: null,
    });
  }
  return entries;
}

function runbookEntries(executions: PostmortemExecution[]): PostmortemEntry[] {
  const entries: PostmortemEntry[] = [];
  for (const e of executions) {
    entries.push({ at: e.createdAt, source: 'RUNBOOK', message: `runbook ${e.runbookName} requested (${e.status} now)`, actor: e.requestedBy });
    for (const s of e.steps) {
      if (s.startedAt) entries.push({ at: s.startedAt, source: 'RUNBOOK', message: `step ${s.index + 1} ${s.action} started`, actor: null });
      if (s.finishedAt) {
        const outcome = s.error ? `${s.status}: ${s.error}` : s.status;
        entries.push({ at: s.finishedAt, source: 'RUNBOOK', message: `step ${s.index + 1} ${s.action} ${outcome} after ${s.attempts} attempt(s)`, actor: null });
      }
    }
    if (e.finishedAt) entries.push({ at: e.finishedAt, source: 'RUNBOOK', message: `runbook ${e.runbookName} finished ${e.status}`, actor: null });
  }
  return entries;
}

/** Detection, incident events, runbook steps, verification and SLA breaches in time order (stable for ties). */
export function mergedTimeline(input: PostmortemInput): PostmortemEntry[] {
  const events = input.events.map((e) => ({ at: e.at, source: sourceOfEvent(e.kind), message: `${e.kind}: ${e.message}`, actor: e.actor }));
  const all = [...detectionEntries(input.anomalies), ...events, ...runbookEntries(input.executions)];
  return all.map((entry, i) => ({ entry, i })).sort((x, y) => x.entry.at.getTime() - y.entry.at.getTime() || x.i - y.i).map((x) => x.entry);
}

function remediationVerified(executions: PostmortemExecution[]): boolean | null {
  if (executions.length === 0) return null;
  const judged = executions.filter((e) => e.verified !== null);
  if (judged.length === 0) return null;
  return judged.every((e) => e.verified === true);
}

function openQuestions(input: PostmortemInput, verified: boolean | null): string[] {
  const questions = ['What was the root cause?', 'What was the impact on users or downstream systems?'];
  if (input.executions.length === 0) questions.push('No runbook ran: should one be triggered automatically next time?');
  else if (verified !== true) questions.push('The remediation was not verified: did it fix the problem, and how do we know?');
  if (input.incident.acknowledgedAt === null) questions.push('Nobody acknowledged the incident: did the alert reach the right people?');
  const falseAlarm = input.anomalies.length > 0 && input.anomalies.every((a) => a.slaName === null) ? 'Were any of these anomalies false positives (label them)?' : null;
  if (falseAlarm) questions.push(falseAlarm);
  questions.push('What will prevent this from happening again (owner, due date)?');
  return questions;
}

const iso = (d: Date | null) => (d ? d.toISOString() : '—');
/** Markdown table cells: a pipe or a newline in a message must not break the row. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function markdownOf(input: PostmortemInput, pm: Omit<Postmortem, 'markdown'>): string {
  const { incident } = input;
  const first = input.anomalies[0];
  const lines = [
    `# Postmortem: ${incident.title}`,
    '',
    `Incident \`${incident.id}\` on stream **${input.streamName}**, severity ${incident.severity}, status ${incident.status}.`,
    '',
    '## Summary',
    '',
    pm.summary,
    '',
    `- Started: ${iso(pm.startedAt)}`,
    `- Resolved: ${iso(pm.resolvedAt)}`,
    `- Duration: ${pm.durationSeconds === null ? 'ongoing' : formatDuration(pm.durationSeconds)}`,
    `- Impact: ${pm.anomalyCount} anomal${pm.anomalyCount === 1 ? 'y' : 'ies'} in ${pm.seriesAffected.length} series (${pm.seriesAffected.join(', ') || 'none'})`,
    '',
    '## Timeline',
    '',
    '| Time (UTC) | Source | What happened | By |',
    '| --- | --- | --- | --- |',
    ...pm.timeline.map((e) => `| ${iso(e.at)} | ${e.source} | ${cell(e.message)} | ${cell(e.actor ?? '')} |`),
    '',
    '## Lineage of the first anomaly',
    '',
  ];
  if (first) {
    lines.push(
      `- Anomaly: \`${first.id}\` (${first.field} = ${first.value}, ${first.explanation})`,
      `- Event: topic \`${first.topic}\`, partition ${first.partition}, offset ${first.offset}, event time ${iso(first.eventTime)}`,
      `- Schema version: ${first.schemaVersion}; detector ${first.detectorName} version ${first.detectorVersion}`,
      `- Trace id: ${first.traceId ?? '—'}`,
    );
  } else lines.push('No anomaly is recorded for this incident.');
  lines.push('', '## Remediation', '');
  if (input.executions.length === 0) lines.push('No runbook ran.');
  for (const e of input.executions) {
    const verification = e.verified === null ? 'not verified (not asked for or not known)' : e.verified ? 'verified' : 'verification failed';
    const approval = e.approvedBy ? `, approved by ${e.approvedBy}` : '';
    lines.push(`- Runbook **${e.runbookName}** (\`${e.id}\`): ${e.status}, requested by ${e.requestedBy}${approval}; ${verification}`);
    for (const s of e.steps) lines.push(`  - step ${s.index + 1} ${s.action}: ${s.status}${s.error ? ` (${cell(s.error)})` : ''}`);
  }
  lines.push('', '## Open questions', '', ...pm.openQuestions.map((q) => `- [ ] ${q}`), '');
  return lines.join('\n');
}

export function buildPostmortem(input: PostmortemInput): Postmortem {
  const { incident } = input;
  const startedAt = input.anomalies[0] && input.anomalies[0].detectedAt < incident.openedAt ? input.anomalies[0].detectedAt : incident.openedAt;
  const durationSeconds = incident.resolvedAt ? Math.max(0, Math.round((incident.resolvedAt.getTime() - startedAt.getTime()) / 1000)) : null;
  const seriesAffected = [...new Set(input.anomalies.map(seriesName))].sort();
  const verified = remediationVerified(input.executions);
  const how = durationSeconds === null ? 'is still open' : `lasted ${formatDuration(durationSeconds)}`;
  const fix = input.executions.length === 0 ? 'No runbook ran.' : `${input.executions.length} runbook execution(s) ran; remediation ${verified === true ? 'was verified' : 'was not verified'}.`;
  const summary =
    `${incident.severity} incident "${incident.title}" on stream ${input.streamName} opened ${incident.openedAt.toISOString()} and ${how}, ` +
    `with ${incident.anomalyCount} anomal${incident.anomalyCount === 1 ? 'y' : 'ies'} across ${seriesAffected.length} series. ${fix}`;
  const partial: Omit<Postmortem, 'markdown'> = {
    summary,
    startedAt,
    resolvedAt: incident.resolvedAt,
    durationSeconds,
    anomalyCount: incident.anomalyCount,
    seriesAffected,
    timeline: mergedTimeline(input),
    remediationVerified: verified,
    openQuestions: openQuestions(input, verified),
  };
  return { ...partial, markdown: markdownOf(input, partial) };
}
