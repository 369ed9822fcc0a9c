import { builder } from './builder.ts';
import { SeverityEnum } from './common.ts';
import { principalOf } from './guard.ts';
import { INCLUDE_ARCHIVED_DESCRIPTION } from './lifecycle-fields.ts';
import { SlaRef, StreamRef } from './refs.ts';

const SlaObjectiveEnum = builder.enumType('SlaObjective', {
  values: ['FRESHNESS', 'INGESTION_LAG', 'ERROR_RATE', 'COMPLETENESS', 'ANOMALY_RATE'] as const,
});

const SlaStateRef = builder.objectRef<{ met: boolean; current: number | null; evaluatedAt: Date | null }>('SlaState').implement({
  fields: (t) => ({
    met: t.exposeBoolean('met'),
    current: t.exposeFloat('current', { nullable: true }),
    evaluatedAt: t.expose('evaluatedAt', { type: 'DateTime', nullable: true }),
  }),
});

SlaRef.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    stream: t.field({ type: StreamRef, resolve: (s) => s.streamId }),
    objective: t.expose('objective', { type: SlaObjectiveEnum }),
    threshold: t.exposeFloat('threshold'),
    windowSeconds: t.exposeInt('windowSeconds'),
    severity: t.expose('severity', { type: SeverityEnum }),
    state: t.field({ type: SlaStateRef, resolve: (s) => s }),
  }),
});

const RegisterSlaInput = builder.inputType('RegisterSlaInput', {
  fields: (t) => ({
    streamId: t.id({ required: true }),
    name: t.string({ required: true }),
    objective: t.field({ type: SlaObjectiveEnum, required: true }),
    threshold: t.float({ required: true }),
    windowSeconds: t.int({ required: true }),
    severity: t.field({ type: SeverityEnum, defaultValue: 'WARNING' }),
  }),
});

builder.queryFields((t) => ({
  slas: t.field({
    type: [SlaRef],
    authScopes: { role: 'VIEWER' },
    args: { streamId: t.arg.id(), includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.slas.list(args.streamId, args.includeArchived),
  }),
}));

builder.mutationFields((t) => ({
  registerSla: t.field({
    type: SlaRef,
    authScopes: { role: 'ADMIN' },
    args: { input: t.arg({ type: RegisterSlaInput, required: true }) },
    audit: ({ input }) => ({ target: input.streamId, detail: input }),
    resolve: (_root, { input }, ctx) => ctx.services.slas.register(input, principalOf(ctx).name),
  }),
}));
