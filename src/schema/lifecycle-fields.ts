import { partitioningNote } from '../services/partitioning-note.ts';
import { builder } from './builder.ts';
import { DetectorRef, RunbookRef, SlaRef, StreamHealthRef, StreamRef } from './refs.ts';

/**
 * The lifecycle's reading side: list order, the archive mark on what can be
 * archived, audit log filters, and what the worker says about partitioning.
 * Fields are added to types implemented in their domain files.
 */

export const ListOrderEnum = builder.enumType('ListOrder', {
  description:
    'The order a list is read in. Ids are time-ordered, so both orders are by creation and a page cursor stays valid in either.',
  values: {
    NEWEST_FIRST: { description: 'Most recently created first (the default for anomalies, incidents, executions, dead letters and audit entries).' },
    OLDEST_FIRST: { description: 'Earliest created first.' },
  } as const,
});

export const ORDER_BY_DESCRIPTION = 'The order of the list: NEWEST_FIRST (the default) or OLDEST_FIRST; `after` cursors work in either.';
export const INCLUDE_ARCHIVED_DESCRIPTION = 'Include archived ones (default false: archived ones are left out).';

export const AuditOutcomeEnum = builder.enumType('AuditOutcome', {
  description: 'How an audited mutation ended.',
  values: {
    ALLOWED: { description: 'Authorised and done.' },
    REFUSED: { description: 'Not authorised: no key, a revoked key, or a role too low.' },
    FAILED: { description: 'Authorised, but refused input or an error; nothing was changed.' },
  } as const,
});

export const AuditLogFilterInput = builder.inputType('AuditLogFilter', {
  description: 'Narrows `auditLog`; every part optional, all given parts must hold.',
  fields: (t) => ({
    actor: t.string({ description: 'Exactly as entries name the caller: an API key\'s name, "admin key", "anonymous" or "revoked key (<id>)".' }),
    actions: t.stringList({ description: 'Mutation names, e.g. ["archiveStream", "restoreStream"]: entries of any of them (1 to 50 names).' }),
    target: t.string({ description: 'The id the mutation acted on (for a refused one, the id or name it was given).' }),
    outcome: t.field({ type: AuditOutcomeEnum, description: 'Only entries with this outcome.' }),
    since: t.field({ type: 'DateTime', description: 'Entries written at or after this time.' }),
    until: t.field({ type: 'DateTime', description: 'Entries written before this time; later than `since`.' }),
  }),
});

const archivedAt = {
  type: 'DateTime',
  nullable: true,
  description: 'When it was archived; null while it is live. Archived ones stop running, leave default lists, keep their history, and can be restored.',
} as const;

builder.objectFields(StreamRef, (t) => ({
  description: t.exposeString('description', { description: 'Free text for people, set with `updateStream`; "" when none.' }),
  archivedAt: t.expose('archivedAt', archivedAt),
  partitioningNote: t.string({
    nullable: true,
    description:
      'Set once a worker saw a keyed event on another partition than Kafka\'s Java client (murmur2) picks for its series key: how many, since when, the latest, and how to fix the producer. Null while every series arrived where it belongs.',
    resolve: async (stream, _args, ctx) => partitioningNote(await ctx.services.stats.misrouting(stream.id)),
  }),
}));

builder.objectFields(DetectorRef, (t) => ({ archivedAt: t.expose('archivedAt', archivedAt) }));
builder.objectFields(SlaRef, (t) => ({ archivedAt: t.expose('archivedAt', archivedAt) }));
builder.objectFields(RunbookRef, (t) => ({ archivedAt: t.expose('archivedAt', archivedAt) }));

builder.objectFields(StreamHealthRef, (t) => ({
  misroutedEvents: t.exposeInt('misroutedEvents', {
    description:
      'Keyed events over the last minute that arrived on another partition than Kafka\'s Java client picks for their series key (their series is split); see Stream.partitioningNote.',
  }),
}));
