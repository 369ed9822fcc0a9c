import type { Anomaly } from '../generated/prisma/client.ts';
import { anomalyMatches } from '../services/anomalies.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { traceIdOf } from '../telemetry/trace-context.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs, SeverityEnum } from './common.ts';
import { principalOf } from './guard.ts';
import { ListOrderEnum, ORDER_BY_DESCRIPTION } from './lifecycle-fields.ts';
import { deliveredCursor, resumableEvents } from './resumable.ts';
import {
  AnomalyRef,
  DetectorRef,
  DetectorVersionRef,
  EventRefRef,
  IncidentRef,
  RunbookExecutionRef,
  SlaRef,
  StreamRef,
} from './refs.ts';

export const AnomalyLabelEnum = builder.enumType('AnomalyLabel', { values: ['TRUE_POSITIVE', 'FALSE_POSITIVE'] as const });

AnomalyRef.implement({
  fields: (t) => ({
    stream: t.field({ type: StreamRef, resolve: (a) => a.streamId }),
    detector: t.field({ type: DetectorRef, resolve: (a) => a.detectorId }),
    detectorVersion: t.exposeInt('detectorVersion'),
    seriesKey: t.exposeString('seriesKey', { nullable: true }),
    field: t.exposeString('field'),
    value: t.exposeFloat('value'),
    score: t.exposeFloat('score'),
    expected: t.exposeFloat('expected', { nullable: true }),
    lower: t.exposeFloat('lower', { nullable: true }),
    upper: t.exposeFloat('upper', { nullable: true }),
    severity: t.expose('severity', { type: SeverityEnum }),
    shadow: t.exposeBoolean('shadow', { description: 'True when produced by a SHADOW detector: recorded, never alerted.' }),
    eventTime: t.expose('eventTime', { type: 'DateTime' }),
    detectedAt: t.expose('detectedAt', { type: 'DateTime' }),
    explanation: t.exposeString('explanation', {
      description: "Human-readable reason, e.g. 'value 912 is 6.1 sigma above the 5m mean 140'.",
    }),
    source: t.field({ type: EventRefRef, resolve: eventRefOf }),
    incident: t.field({
      type: IncidentRef,
      nullable: true,
      resolve: (a) => a.incidentId,
    }),
    label: t.expose('label', { type: AnomalyLabelEnum, nullable: true }),
    sla: t.field({
      type: SlaRef,
      nullable: true,
      description: 'The SLA whose breach this anomaly records (its detector is the SLA\'s companion); null for anomalies found in events.',
      resolve: (a) => a.slaId,
    }),
    traceId: t.string({
      nullable: true,
      description: 'W3C trace id carried in the Kafka headers of the event behind this anomaly (from publishEvents or the producer).',
      resolve: (a) => traceIdOf(a.traceparent),
    }),
    cursor: t.string({
      nullable: true,
      description:
        'Where this anomaly stands in commit order, set on anomalies the `anomalies` subscription pushes (null when read by a query): pass the last one received as `after` to resume without a gap or a duplicate.',
      resolve: (a) => deliveredCursor(a),
    }),
  }),
});

function eventRefOf(a: Anomaly) {
  return { topic: a.topic, partition: a.partition, offset: a.offset, key: a.eventKey, timestamp: a.eventTimestamp };
}

const LineageRef = builder.objectRef<Anomaly>('Lineage').implement({
  description: 'Where an anomaly came from and what it caused, end to end.',
  fields: (t) => ({
    anomaly: t.field({ type: AnomalyRef, resolve: (a) => a }),
    event: t.field({ type: EventRefRef, resolve: eventRefOf }),
    stream: t.field({ type: StreamRef, resolve: (a) => a.streamId }),
    schemaVersion: t.exposeInt('schemaVersion'),
    detector: t.field({ type: DetectorRef, resolve: (a) => a.detectorId }),
    detectorVersion: t.field({
      type: DetectorVersionRef,
      resolve: (a, _x, ctx) => ctx.services.detectors.version(a.detectorId, a.detectorVersion),
    }),
    sla: t.field({
      type: SlaRef,
      nullable: true,
      description: 'The SLA whose breach this is; its event is then the evaluation (partition -1, offset = evaluation time in ms), not a Kafka message.',
      resolve: (a) => a.slaId,
    }),
    incident: t.field({
      type: IncidentRef,
      nullable: true,
      resolve: (a) => a.incidentId,
    }),
    executions: t.field({
      type: [RunbookExecutionRef],
      resolve: async (a, _x, ctx) => (a.incidentId ? ctx.services.executions.forIncident(a.incidentId) : []),
    }),
  }),
});

export const AnomalyFilterInput = builder.inputType('AnomalyFilter', {
  fields: (t) => ({
    streamId: t.id(),
    detectorId: t.id(),
    seriesKey: t.string(),
    minSeverity: t.field({ type: SeverityEnum }),
    includeShadow: t.boolean({ description: 'Include anomalies from SHADOW detectors (default false).' }),
    since: t.field({ type: 'DateTime' }),
  }),
});

export const AnomalyConnection = connectionOf('Anomaly', AnomalyRef);

builder.queryFields((t) => ({
  anomalies: t.field({
    type: AnomalyConnection,
    authScopes: { role: 'VIEWER' },
    args: { filter: t.arg({ type: AnomalyFilterInput }), ...pageArgs(t.arg), orderBy: t.arg({ type: ListOrderEnum, description: ORDER_BY_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.anomalies.list(args.filter, args),
  }),
  anomaly: t.field({
    type: AnomalyRef,
    nullable: true,
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.anomalies.get(args.id),
  }),
  lineage: t.field({
    type: LineageRef,
    authScopes: { role: 'VIEWER' },
    args: { anomalyId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.anomalies.require(args.anomalyId, 'anomalyId'),
  }),
}));

builder.mutationFields((t) => ({
  labelAnomaly: t.field({
    type: AnomalyRef,
    authScopes: { role: 'OPERATOR' },
    args: {
      id: t.arg.id({ required: true }),
      label: t.arg({ type: AnomalyLabelEnum, required: true }),
      note: t.arg.string(),
    },
    audit: (args) => ({ target: args.id, detail: args }),
    resolve: (_root, args, ctx) => ctx.services.anomalies.label(args.id, args.label, args.note, principalOf(ctx).name),
  }),
}));

/** Anomalies travel through Redis as JSON: dates as ISO strings, the offset as a decimal string. */
export function reviveAnomaly(json: Record<string, unknown>): Anomaly {
  const date = (v: unknown) => new Date(v as string);
  return {
    ...(json as unknown as Anomaly),
    eventTime: date(json.eventTime),
    detectedAt: date(json.detectedAt),
    eventTimestamp: date(json.eventTimestamp),
    offset: BigInt(json.offset as string),
  };
}

builder.subscriptionFields((t) => ({
  anomalies: t.field({
    type: AnomalyRef,
    description:
      'New anomalies in commit order. With `after` (the `cursor` of the last anomaly received), first every matching anomaly committed after it, then live ones: each once, none missed.',
    authScopes: { role: 'VIEWER' },
    args: {
      filter: t.arg({ type: AnomalyFilterInput }),
      after: t.arg.string({ description: 'The `cursor` of the last anomaly received; without it, anomalies committed from now on.' }),
    },
    subscribe: (_root, args, ctx) =>
      resumableEvents(
        ctx,
        {
          table: 'Anomaly',
          channel: CHANNELS.anomalies,
          matches: (anomaly) => anomalyMatches(anomaly, args.filter),
          idOf: (json: Record<string, unknown>) => (typeof json.id === 'string' ? json.id : undefined),
          passThrough: (json) => reviveAnomaly(json),
        },
        args.after,
      ),
    resolve: (anomaly) => anomaly,
  }),
}));
