import { builder } from './builder.ts';
import { connectionOf, pageArgs } from './common.ts';
import { ListOrderEnum, ORDER_BY_DESCRIPTION } from './lifecycle-fields.ts';
import { DeadLetterRef, EventRefRef, StreamRef } from './refs.ts';

DeadLetterRef.implement({
  fields: (t) => ({
    stream: t.field({ type: StreamRef, resolve: (d) => d.streamId }),
    source: t.field({
      type: EventRefRef,
      resolve: (d) => ({ topic: d.topic, partition: d.partition, offset: d.offset, key: d.eventKey, timestamp: d.eventTimestamp }),
    }),
    reason: t.exposeString('reason'),
    payload: t.exposeString('payload', { description: 'The raw value, cut to at most 64 KiB.' }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    reprocessedAt: t.expose('reprocessedAt', { type: 'DateTime', nullable: true }),
  }),
});

const DeadLetterConnection = connectionOf('DeadLetter', DeadLetterRef);

builder.queryFields((t) => ({
  deadLetters: t.field({
    type: DeadLetterConnection,
    authScopes: { role: 'VIEWER' },
    args: { streamId: t.arg.id(), ...pageArgs(t.arg), orderBy: t.arg({ type: ListOrderEnum, description: ORDER_BY_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.deadLetters.list(args.streamId, args),
  }),
}));

builder.mutationFields((t) => ({
  reprocessDeadLetters: t.int({
    authScopes: { role: 'OPERATOR' },
    args: { ids: t.arg.idList({ required: true }) },
    audit: (args) => ({ target: args.ids.slice(0, 10).join(','), detail: { count: args.ids.length } }),
    resolve: (_root, args, ctx) => ctx.services.deadLetters.reprocess(args.ids),
  }),
}));
