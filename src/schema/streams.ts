import { builder } from './builder.ts';
import { connectionOf, NodeRef } from './common.ts';
import { audited, authorize } from './guard.ts';
import { DetectorRef, SlaRef, StreamHealthRef, StreamRef } from './refs.ts';
import { INCLUDE_ARCHIVED_DESCRIPTION } from './lifecycle-fields.ts';

export const StreamStatusEnum = builder.enumType('StreamStatus', { values: ['ACTIVE', 'PAUSED'] as const });

StreamRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    topic: t.exposeString('topic'),
    schema: t.field({
      type: 'JSON',
      description: 'JSON Schema that every event value must satisfy (the data contract).',
      resolve: (stream, _args, ctx) => ctx.services.streams.currentSchema(stream),
    }),
    schemaVersion: t.exposeInt('schemaVersion'),
    keyField: t.exposeString('keyField', {
      nullable: true,
      description: 'Field whose value splits the stream into series (e.g. host); null: one series.',
    }),
    timestampField: t.exposeString('timestampField', {
      nullable: true,
      description: 'Field holding event time (ISO-8601 or epoch ms); null: the Kafka timestamp.',
    }),
    valueFields: t.exposeStringList('valueFields'),
    partitions: t.exposeInt('partitions', { description: 'Kafka partitions of the topic.' }),
    status: t.expose('status', { type: StreamStatusEnum }),
    retentionDays: t.exposeInt('retentionDays'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    detectors: t.field({
      type: [DetectorRef],
      args: { includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
      resolve: (s, args, ctx) => ctx.services.detectors.forStream(s.id, args.includeArchived ?? false),
    }),
    slas: t.field({
      type: [SlaRef],
      args: { includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
      resolve: (s, args, ctx) => ctx.services.slas.list(s.id, args.includeArchived),
    }),
    health: t.field({ type: StreamHealthRef, resolve: (s, _a, ctx) => ctx.services.health.stream(s) }),
  }),
});

const StreamConnection = connectionOf('Stream', StreamRef);

const RegisterStreamInput = builder.inputType('RegisterStreamInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    topic: t.string({ required: true }),
    schema: t.field({ type: 'JSON', required: true }),
    keyField: t.string(),
    timestampField: t.string(),
    valueFields: t.stringList({ required: true }),
    partitions: t.int({ defaultValue: 3 }),
    retentionDays: t.int({ defaultValue: 30 }),
  }),
});

const ReplayInput = builder.inputType('ReplayInput', {
  fields: (t) => ({
    streamId: t.id({ required: true }),
    fromTimestamp: t.field({
      type: 'DateTime',
      description: 'Re-consume from this event time; exactly one of fromTimestamp, fromOffsets.',
    }),
    fromOffsets: t.field({ type: 'JSON', description: 'JSON object partition -> offset string.' }),
  }),
});

const RejectionRef = builder.objectRef<{ index: number; reason: string }>('Rejection').implement({
  fields: (t) => ({ index: t.exposeInt('index'), reason: t.exposeString('reason') }),
});

const PublishResultRef = builder
  .objectRef<{ accepted: number; rejected: { index: number; reason: string }[] }>('PublishResult')
  .implement({
    fields: (t) => ({
      accepted: t.exposeInt('accepted'),
      rejected: t.field({ type: [RejectionRef], resolve: (r) => r.rejected }),
    }),
  });

const ReplayResultRef = builder.objectRef<{ streamId: string; fromOffsets: Record<string, string> }>('ReplayResult').implement({
  fields: (t) => ({
    stream: t.field({ type: StreamRef, resolve: (r, _a, ctx) => ctx.services.streams.get(r.streamId) }),
    fromOffsets: t.field({
      type: 'JSON',
      description: 'Per partition, the offset consumption restarts from.',
      resolve: (r) => r.fromOffsets,
    }),
  }),
});

builder.queryFields((t) => ({
  streams: t.field({
    type: StreamConnection,
    args: { first: t.arg.int(), after: t.arg.string(), includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
    resolve: (_root, args, ctx) => {
      authorize(ctx, 'VIEWER');
      return ctx.services.streams.list(args);
    },
  }),
  stream: t.field({
    type: StreamRef,
    nullable: true,
    args: { id: t.arg.id(), name: t.arg.string() },
    resolve: (_root, args, ctx) => {
      authorize(ctx, 'VIEWER');
      return ctx.services.streams.find(args);
    },
  }),
}));

builder.mutationFields((t) => ({
  registerStream: t.field({
    type: StreamRef,
    args: { input: t.arg({ type: RegisterStreamInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      audited(ctx, { action: 'registerStream', role: 'ADMIN', target: input.name, detail: input }, (p) =>
        ctx.services.streams.register(input, p.name),
      ),
  }),
  updateStreamSchema: t.field({
    type: StreamRef,
    description: 'A new schema must be backward compatible with the current one, else BAD_USER_INPUT.',
    args: { id: t.arg.id({ required: true }), schema: t.arg({ type: 'JSON', required: true }) },
    resolve: (_root, args, ctx) =>
      audited(ctx, { action: 'updateStreamSchema', role: 'ADMIN', target: args.id, detail: args }, (p) =>
        ctx.services.streams.updateSchema(args.id, args.schema, p.name),
      ),
  }),
  pauseStream: t.field({
    type: StreamRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      audited(ctx, { action: 'pauseStream', role: 'ADMIN', target: args.id }, () => ctx.services.streams.setStatus(args.id, 'PAUSED')),
  }),
  resumeStream: t.field({
    type: StreamRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      audited(ctx, { action: 'resumeStream', role: 'ADMIN', target: args.id }, () => ctx.services.streams.setStatus(args.id, 'ACTIVE')),
  }),
  replayStream: t.field({
    type: ReplayResultRef,
    args: { input: t.arg({ type: ReplayInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      audited(ctx, { action: 'replayStream', role: 'OPERATOR', target: input.streamId, detail: input }, () =>
        ctx.services.replay.replay(input),
      ),
  }),
  publishEvents: t.field({
    type: PublishResultRef,
    description: "Validates each event against the stream's contract, produces the valid ones to its topic.",
    args: { streamId: t.arg.id({ required: true }), events: t.arg({ type: ['JSON'], required: true }) },
    resolve: (_root, args, ctx) =>
      audited(
        ctx,
        { action: 'publishEvents', role: 'OPERATOR', target: args.streamId, detail: { events: args.events.length } },
        () => ctx.services.events.publish(args.streamId, args.events, { traceparent: ctx.traceparent }),
      ),
  }),
}));
