import type { PostmortemEntry } from '../incidents/postmortem.ts';
import type { LoadedPostmortem } from '../services/postmortem.ts';
import { builder } from './builder.ts';
import { AnomalyRef, IncidentRef, RunbookExecutionRef } from './refs.ts';

const TimelineSourceEnum = builder.enumType('PostmortemSource', {
  values: {
    DETECTION: { description: 'A detector flagged a series (its first anomaly in the incident).' },
    INCIDENT: { description: 'An entry of the incident timeline (opened, joined, escalated, acknowledged, resolved).' },
    RUNBOOK: { description: 'A runbook execution or one of its steps.' },
    VERIFICATION: { description: 'Whether a remediation was verified.' },
    SLA: { description: 'An SLA breach or recovery.' },
  } as const,
});

const PostmortemEntryRef = builder.objectRef<PostmortemEntry>('PostmortemEntry').implement({
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    source: t.expose('source', { type: TimelineSourceEnum }),
    message: t.exposeString('message'),
    actor: t.exposeString('actor', { nullable: true }),
  }),
});

const PostmortemRef = builder.objectRef<LoadedPostmortem>('Postmortem').implement({
  description: 'A generated postmortem of a resolved incident: structured fields, and the same content as Markdown.',
  fields: (t) => ({
    incident: t.field({ type: IncidentRef, resolve: (p) => p.incident }),
    summary: t.exposeString('summary', { description: 'What happened, when, how long, the impact and the remediation, in a paragraph.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    durationSeconds: t.exposeInt('durationSeconds', { nullable: true }),
    anomalyCount: t.exposeInt('anomalyCount'),
    seriesAffected: t.exposeStringList('seriesAffected'),
    timeline: t.field({
      type: [PostmortemEntryRef],
      description: 'Detection, incident events, runbook steps, verification and SLA breaches merged in time order.',
      resolve: (p) => p.timeline,
    }),
    firstAnomaly: t.field({ type: AnomalyRef, nullable: true, description: 'The first anomaly; its lineage is in its source and versions.', resolve: (p) => p.firstAnomaly }),
    remediation: t.field({ type: [RunbookExecutionRef], description: 'The runbook executions of the incident, oldest first.', resolve: (p) => p.executions }),
    remediationVerified: t.exposeBoolean('remediationVerified', {
      nullable: true,
      description: 'Null when no remediation ran or none asked for verification; else true only when every judged one was verified.',
    }),
    openQuestions: t.exposeStringList('openQuestions', { description: 'Questions for a person to answer.' }),
    markdown: t.exposeString('markdown', { description: 'The whole postmortem as a Markdown document.' }),
  }),
});

builder.queryFields((t) => ({
  postmortem: t.field({
    type: PostmortemRef,
    description: 'The postmortem of a resolved incident (BAD_USER_INPUT while it is open or acknowledged).',
    authScopes: { role: 'VIEWER' },
    args: { incidentId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.postmortems.forIncident(args.incidentId),
  }),
}));
