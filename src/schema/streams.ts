import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { Stream } from '../generated/prisma/client.ts';
import type { StreamHealth } from '../services/health.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs } from './common.ts';
import { principalOf } from './guard.ts';
import { INCLUDE_ARCHIVED_DESCRIPTION } from './lifecycle-fields.ts';
import type { Context } from './context.ts';
import { DetectorRef, SlaRef, StreamHealthRef, StreamRef } from './refs.ts';

export const StreamStatusEnum = builder.enumType('StreamStatus', { values: ['ACTIVE', 'PAUSED'] as const });

/**
 * A page of streams reads its health at once: two SQL statements however many
 * streams (services/health.ts). Batched, never cached: health read after a
 * mutation in the same request must be read afresh.
 */
const streamHealth = createContextCache(
  (ctx: Context) => new DataLoader<Stream, StreamHealth>((streams) => ctx.services.health.streamsHealth(streams), { cache: false }),
);

StreamRef.implement({
  fields: (t) => ({
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
    // Read for every stream of a list at once; byPath keeps aliases with other arguments apart.
    detectors: t.loadableList({
      type: DetectorRef,
      args: { includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
      byPath: true,
      load: (streamIds: string[], ctx, args) => ctx.services.batch.detectorsFor(streamIds, args.includeArchived ?? false),
      resolve: (s) => s.id,
    }),
    slas: t.loadableList({
      type: SlaRef,
      args: { includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
      byPath: true,
      load: (streamIds: string[], ctx, args) => ctx.services.batch.slasFor(streamIds, args.includeArchived ?? false),
      resolve: (s) => s.id,
    }),
    health: t.field({ type: StreamHealthRef, resolve: (s, _a, ctx) => streamHealth(ctx).load(s) }),
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
    stream: t.field({ type: StreamRef, resolve: (r) => r.streamId }),
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
    authScopes: { role: 'VIEWER' },
    args: { ...pageArgs(t.arg), includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.streams.list(args),
  }),
  stream: t.field({
    type: StreamRef,
    nullable: true,
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id(), name: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.services.streams.find(args),
  }),
}));

builder.mutationFields((t) => ({
  registerStream: t.field({
    type: StreamRef,
    authScopes: { role: 'ADMIN' },
    args: { input: t.arg({ type: RegisterStreamInput, required: true }) },
    audit: ({ input }) => ({ target: input.name, detail: input }),
    resolve: (_root, { input }, ctx) => ctx.services.streams.register(input, principalOf(ctx).name),
  }),
  updateStreamSchema: t.field({
    type: StreamRef,
    description: 'A new schema must be backward compatible with the current one, else BAD_USER_INPUT.',
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }), schema: t.arg({ type: 'JSON', required: true }) },
    audit: (args) => ({ target: args.id, detail: args }),
    resolve: (_root, args, ctx) => ctx.services.streams.updateSchema(args.id, args.schema, principalOf(ctx).name),
  }),
  pauseStream: t.field({
    type: StreamRef,
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }) },
    audit: (args) => ({ target: args.id }),
    resolve: (_root, args, ctx) => ctx.services.streams.setStatus(args.id, 'PAUSED'),
  }),
  resumeStream: t.field({
    type: StreamRef,
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }) },
    audit: (args) => ({ target: args.id }),
    resolve: (_root, args, ctx) => ctx.services.streams.setStatus(args.id, 'ACTIVE'),
  }),
  replayStream: t.field({
    type: ReplayResultRef,
    authScopes: { role: 'OPERATOR' },
    args: { input: t.arg({ type: ReplayInput, required: true }) },
    audit: ({ input }) => ({ target: input.streamId, detail: input }),
    resolve: (_root, { input }, ctx) => ctx.services.replay.replay(input),
  }),
  publishEvents: t.field({
    type: PublishResultRef,
    description: "Validates each event against the stream's contract, produces the valid ones to its topic.",
    authScopes: { role: 'OPERATOR' },
    args: { streamId: t.arg.id({ required: true }), events: t.arg({ type: ['JSON'], required: true }) },
    audit: (args) => ({ target: args.streamId, detail: { events: args.events.length } }),
    resolve: (_root, args, ctx) => ctx.services.events.publish(args.streamId, args.events, { traceparent: ctx.traceparent }),
  }),
}));
