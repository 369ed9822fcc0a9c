import { builder } from './builder.ts';
import { connectionOf, NodeRef } from './common.ts';
import { audited, authorize } from './guard.ts';
import { DeadLetterRef, EventRefRef, StreamRef } from './refs.ts';
import { ListOrderEnum, ORDER_BY_DESCRIPTION } from './lifecycle-fields.ts';

DeadLetterRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    stream: t.field({ type: StreamRef, resolve: (d, _a, ctx) => ctx.services.streams.get(d.streamId) }),
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
    args: { streamId: t.arg.id(), first: t.arg.int(), after: t.arg.string(), orderBy: t.arg({ type: ListOrderEnum, description: ORDER_BY_DESCRIPTION }) },
    resolve: (_root, args, ctx) => {
      authorize(ctx, 'VIEWER');
      return ctx.services.deadLetters.list(args.streamId, args);
    },
  }),
}));

builder.mutationFields((t) => ({
  reprocessDeadLetters: t.int({
    args: { ids: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) =>
      audited(ctx, { action: 'reprocessDeadLetters', role: 'OPERATOR', target: args.ids.slice(0, 10).join(','), detail: { count: args.ids.length } }, () =>
        ctx.services.deadLetters.reprocess(args.ids),
      ),
  }),
}));
