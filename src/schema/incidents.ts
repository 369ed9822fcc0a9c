import type { Incident } from '../generated/prisma/client.ts';
import { incidentMatches } from '../services/incidents.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs, SeverityEnum } from './common.ts';
import { principalOf } from './guard.ts';
import { ListOrderEnum, ORDER_BY_DESCRIPTION } from './lifecycle-fields.ts';
import { deliveredCursor, resumableEvents } from './resumable.ts';
import { IncidentEventRef, IncidentRef, RunbookExecutionRef, StreamRef } from './refs.ts';
import { AnomalyConnection } from './anomalies.ts';

const IncidentStatusEnum = builder.enumType('IncidentStatus', { values: ['OPEN', 'ACKNOWLEDGED', 'RESOLVED'] as const });

IncidentEventRef.implement({
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    kind: t.exposeString('kind'),
    message: t.exposeString('message'),
    actor: t.exposeString('actor', { nullable: true }),
  }),
});


IncidentRef.implement({
  fields: (t) => ({
    title: t.exposeString('title'),
    status: t.expose('status', { type: IncidentStatusEnum }),
    severity: t.expose('severity', { type: SeverityEnum }),
    stream: t.field({ type: StreamRef, resolve: (i) => i.streamId }),
    anomalyCount: t.exposeInt('anomalyCount'),
    // The same page of every incident in a list is read at once; byPath keeps aliases with other page arguments apart.
    anomalies: t.loadable({
      type: AnomalyConnection,
      args: pageArgs(t.arg),
      byPath: true,
      load: (incidentIds: string[], ctx, args) => ctx.services.batch.anomaliesFor(incidentIds, args),
      resolve: (i) => i.id,
    }),
    openedAt: t.expose('openedAt', { type: 'DateTime' }),
    acknowledgedAt: t.expose('acknowledgedAt', { type: 'DateTime', nullable: true }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    timeline: t.loadableList({
      type: IncidentEventRef,
      load: (incidentIds: string[], ctx) => ctx.services.batch.timelineFor(incidentIds),
      resolve: (i) => i.id,
    }),
    executions: t.loadableList({
      type: RunbookExecutionRef,
      load: (incidentIds: string[], ctx) => ctx.services.batch.executionsFor(incidentIds),
      resolve: (i) => i.id,
    }),
    cursor: t.string({
      nullable: true,
      description:
        'Where this state of the incident stands in commit order, set on incidents `incidentUpdates` pushes (null when read by a query): pass the last one received as `after` to resume.',
      resolve: (i) => deliveredCursor(i),
    }),
  }),
});

const IncidentFilterInput = builder.inputType('IncidentFilter', {
  fields: (t) => ({
    streamId: t.id(),
    status: t.field({ type: [IncidentStatusEnum] }),
    minSeverity: t.field({ type: SeverityEnum }),
  }),
});

const IncidentConnection = connectionOf('Incident', IncidentRef);

builder.queryFields((t) => ({
  incidents: t.field({
    type: IncidentConnection,
    authScopes: { role: 'VIEWER' },
    args: { filter: t.arg({ type: IncidentFilterInput }), ...pageArgs(t.arg), orderBy: t.arg({ type: ListOrderEnum, description: ORDER_BY_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.incidents.list(args.filter, args),
  }),
  incident: t.field({
    type: IncidentRef,
    nullable: true,
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.incidents.get(args.id),
  }),
}));

builder.mutationFields((t) => ({
  acknowledgeIncident: t.field({
    type: IncidentRef,
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }), note: t.arg.string() },
    audit: (args) => ({ target: args.id, detail: args }),
    resolve: (_root, args, ctx) => ctx.services.incidents.acknowledge(args.id, args.note, principalOf(ctx).name),
  }),
  resolveIncident: t.field({
    type: IncidentRef,
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }), note: t.arg.string() },
    audit: (args) => ({ target: args.id, detail: args }),
    resolve: (_root, args, ctx) => ctx.services.incidents.resolve(args.id, args.note, principalOf(ctx).name),
  }),
}));

const idOfMessage = (message: { id?: unknown }) => (typeof message.id === 'string' ? message.id : undefined);

builder.subscriptionFields((t) => ({
  incidentUpdates: t.field({
    type: IncidentRef,
    description:
      'Incidents as they change (opened, joined, escalated, acknowledged, resolved, a timeline entry added). With `after` (the `cursor` of the last one received), first the current state of every matching incident changed after it, in commit order, then live changes; a state already received is not sent again. States superseded while away are not replayed: the timeline keeps them.',
    authScopes: { role: 'VIEWER' },
    args: {
      filter: t.arg({ type: IncidentFilterInput }),
      after: t.arg.string({ description: 'The `cursor` of the last incident received; without it, changes committed from now on.' }),
    },
    subscribe: (_root, args, ctx) =>
      resumableEvents(
        ctx,
        { table: 'Incident', channel: CHANNELS.incidents, matches: (incident: Incident) => incidentMatches(incident, args.filter), idOf: idOfMessage },
        args.after,
      ),
    resolve: (incident) => incident,
  }),
  executionUpdates: t.field({
    type: RunbookExecutionRef,
    description:
      'Runbook executions as they change (status, approval, verification, a step started, retried or finished). With `after`, first the current state of every matching execution changed after it, in commit order, then live changes, as incidentUpdates.',
    authScopes: { role: 'VIEWER' },
    args: {
      runbookId: t.arg.id(),
      after: t.arg.string({ description: 'The `cursor` of the last execution received; without it, changes committed from now on.' }),
    },
    subscribe: (_root, args, ctx) =>
      resumableEvents(
        ctx,
        {
          table: 'RunbookExecution',
          channel: CHANNELS.executions,
          matches: (execution) => !args.runbookId || execution.runbookId === args.runbookId,
          idOf: idOfMessage,
        },
        args.after,
      ),
    resolve: (execution) => execution,
  }),
}));
