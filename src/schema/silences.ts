import { builder } from './builder.ts';
import { connectionOf, pageArgs } from './common.ts';
import { principalOf } from './guard.ts';
import { AnomalyRef, DetectorRef, SilenceRef, StreamRef } from './refs.ts';
import { MAX_SILENCE_SECONDS } from '../services/silences.ts';

SilenceRef.implement({
  description:
    'A maintenance window: anomalies of its stream (of one detector, one series, or all) whose event time falls in [startsAt, endsAt) are still recorded, with it (`Anomaly.silence`), but open no incident and run no runbook.',
  fields: (t) => ({
    stream: t.field({ type: StreamRef, description: 'The stream it covers.', resolve: (s) => s.streamId }),
    detector: t.field({ type: DetectorRef, nullable: true, description: 'Only this detector; null: every detector of the stream.', resolve: (s) => s.detectorId }),
    seriesKey: t.exposeString('seriesKey', { nullable: true, description: 'Only this series (the keyField value); null: every series.' }),
    startsAt: t.expose('startsAt', { type: 'DateTime', description: 'From this event time on (inclusive).' }),
    endsAt: t.expose('endsAt', { type: 'DateTime', description: 'Until this event time (exclusive); `endSilence` brings it forward to now.' }),
    reason: t.exposeString('reason', { description: 'Why, in the words of who made it, for whoever is on call.' }),
    createdBy: t.exposeString('createdBy', { description: 'Name of the API key that made it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made.' }),
    endedBy: t.exposeString('endedBy', { nullable: true, description: 'Name of the API key that ended it early; null when it runs (or ran) its course.' }),
    active: t.boolean({
      description: 'True while the clock is inside [startsAt, endsAt). Anomalies are matched by their event time, so a late event of the window is silenced too.',
      resolve: (s) => s.startsAt.getTime() <= Date.now() && Date.now() < s.endsAt.getTime(),
    }),
  }),
});

const SilenceConnection = connectionOf('Silence', SilenceRef);

const CreateSilenceInput = builder.inputType('CreateSilenceInput', {
  description: `A maintenance window to open, at most 7 days (${MAX_SILENCE_SECONDS} s) long.`,
  fields: (t) => ({
    streamId: t.id({ required: true, description: 'The stream it covers.' }),
    detectorId: t.id({ description: 'Only this detector of the stream; absent: every detector.' }),
    seriesKey: t.string({ description: 'Only this series; absent: every series.' }),
    startsAt: t.field({ type: 'DateTime', description: 'When it starts; absent: now.' }),
    endsAt: t.field({ type: 'DateTime', required: true, description: 'When it ends: in the future, after startsAt, at most 7 days after it.' }),
    reason: t.string({ required: true, description: 'Why (1 to 500 characters), shown to whoever is on call.' }),
  }),
});

builder.objectField(AnomalyRef, 'silence', (t) =>
  t.field({
    type: SilenceRef,
    nullable: true,
    description: 'The silence its event time fell in: it was recorded but opened no incident and ran no runbook. Null for other anomalies.',
    resolve: (a) => a.silenceId,
  }),
);

builder.queryFields((t) => ({
  silences: t.field({
    type: SilenceConnection,
    authScopes: { role: 'VIEWER' },
    description: 'Silences, newest first: those holding or to come, or with includeEnded every one. Role: VIEWER.',
    args: {
      streamId: t.arg.id({ description: 'Only silences of this stream.' }),
      includeEnded: t.arg.boolean({ description: 'Also silences that are over (default false).' }),
      ...pageArgs(t.arg),
    },
    resolve: (_root, args, ctx) => ctx.services.silences.list(args, args),
  }),
}));

builder.mutationFields((t) => ({
  createSilence: t.field({
    type: SilenceRef,
    authScopes: { role: 'OPERATOR' },
    description:
      'Opens a maintenance window: anomalies it covers are recorded but open no incident and run no runbook. Workers apply it before their next batch. Role: OPERATOR. Errors: NOT_FOUND (input.streamId, input.detectorId), BAD_USER_INPUT (input.detectorId, input.seriesKey, input.endsAt, input.reason).',
    args: { input: t.arg({ type: CreateSilenceInput, required: true, description: 'The window: stream, optional detector and series, start, end and reason.' }) },
    audit: ({ input }) => ({ target: input.streamId, detail: input }),
    resolve: (_root, { input }, ctx) => ctx.services.silences.create(input, principalOf(ctx).name),
  }),
  endSilence: t.field({
    type: SilenceRef,
    authScopes: { role: 'OPERATOR' },
    description: 'Ends a silence now (one not started yet ends before it starts); one already over is returned as it is. Role: OPERATOR. Errors: NOT_FOUND (id).',
    args: { id: t.arg.id({ required: true, description: 'The silence.' }) },
    audit: ({ id }) => ({ target: id }),
    resolve: (_root, { id }, ctx) => ctx.services.silences.end(id, principalOf(ctx).name),
  }),
}));
