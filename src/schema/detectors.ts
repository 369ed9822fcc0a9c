import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { Detector, DetectorVersion } from '../generated/prisma/client.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs, SeverityEnum } from './common.ts';
import type { Context } from './context.ts';
import { principalOf } from './guard.ts';
import { INCLUDE_ARCHIVED_DESCRIPTION } from './lifecycle-fields.ts';
import { incidentPolicyOf } from '../services/detectors.ts';
import type { IncidentPolicy } from '../incidents/policy.ts';
import { DetectorRef, DetectorVersionRef, StreamRef } from './refs.ts';

export const DetectorKindEnum = builder.enumType('DetectorKind', {
  values: {
    ZSCORE: { description: 'Rolling mean/stddev over a window; score = |z|.' },
    MAD: { description: 'Rolling median and median absolute deviation; robust to outliers.' },
    EWMA: { description: 'Exponentially weighted mean and variance.' },
    SEASONAL: { description: 'Seasonal baseline (e.g. Holt-Winters) with a learned or given period.' },
    THRESHOLD: { description: 'Static bounds: params { min, max }.' },
    FRESHNESS: { description: 'No event for a key within params.maxGapSeconds.' },
    ENSEMBLE: { description: 'Combines member detectors (params.members) by vote or weighted score.' },
    LIKELIHOOD: {
      description:
        'Anomaly likelihood: how surprising the recent deviations are on several time scales (step, fast, slow, volatility, hour of week) against their long-run distribution, plus values outside the range seen so far; quiet for params.quiet events after an alert.',
    },
  } as const,
});

export const DetectorModeEnum = builder.enumType('DetectorMode', { values: ['ACTIVE', 'SHADOW', 'DISABLED'] as const });

DetectorVersionRef.implement({
  fields: (t) => ({
    version: t.exposeInt('version'),
    kind: t.expose('kind', { type: DetectorKindEnum }),
    params: t.expose('params', { type: 'JSON' }),
    mode: t.expose('mode', { type: DetectorModeEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.exposeString('createdBy'),
  }),
});

const DetectorStatsRef = builder
  .objectRef<{ anomalies: number; truePositives: number; falsePositives: number; precision: number | null }>('DetectorStats')
  .implement({
    fields: (t) => ({
      anomalies: t.exposeInt('anomalies'),
      truePositives: t.exposeInt('truePositives'),
      falsePositives: t.exposeInt('falsePositives'),
      precision: t.exposeFloat('precision', {
        nullable: true,
        description: 'truePositives / (truePositives + falsePositives); null until labelled.',
      }),
    }),
  });

const IncidentPolicyRef = builder.objectRef<IncidentPolicy>('IncidentPolicy').implement({
  fields: (t) => ({
    groupBy: t.expose('groupBy', { type: IncidentGroupingEnum }),
    correlationWindowSeconds: t.exposeInt('correlationWindowSeconds'),
    flapWindowSeconds: t.exposeInt('flapWindowSeconds'),
    quietPeriodSeconds: t.exposeInt('quietPeriodSeconds'),
  }),
});

/** Kind, params, mode and severity of a page of detectors all come from one read of their current versions. */
const currentVersions = createContextCache(
  (ctx: Context) =>
    new DataLoader<Detector, DetectorVersion, string>((detectors) => ctx.services.batch.currentVersions(detectors), {
      cacheKeyFn: (d) => `${d.id}@${d.currentVersion}`,
    }),
);

DetectorRef.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    stream: t.field({ type: StreamRef, resolve: (d) => d.streamId }),
    field: t.exposeString('field'),
    kind: t.field({ type: DetectorKindEnum, resolve: async (d, _a, ctx) => (await currentVersions(ctx).load(d)).kind }),
    params: t.field({ type: 'JSON', resolve: async (d, _a, ctx) => (await currentVersions(ctx).load(d)).params }),
    mode: t.field({ type: DetectorModeEnum, resolve: async (d, _a, ctx) => (await currentVersions(ctx).load(d)).mode }),
    severity: t.field({ type: SeverityEnum, resolve: async (d, _a, ctx) => (await currentVersions(ctx).load(d)).severity }),
    version: t.exposeInt('currentVersion'),
    // Read for every detector of a list at once.
    versions: t.loadableList({ type: DetectorVersionRef, load: (ids: string[], ctx) => ctx.services.batch.versionsFor(ids), resolve: (d) => d.id }),
    stats: t.loadable({ type: DetectorStatsRef, load: (ids: string[], ctx) => ctx.services.batch.statsFor(ids), resolve: (d) => d.id }),
    incidentPolicy: t.field({
      type: IncidentPolicyRef,
      description: 'How this detector groups its anomalies into incidents (not versioned).',
      resolve: (d) => incidentPolicyOf(d),
    }),
    drifting: t.exposeBoolean('drifting', {
      description: "True while the detector's input distribution is judged to have drifted.",
    }),
  }),
});

const DetectorConnection = connectionOf('Detector', DetectorRef);

const IncidentGroupingEnum = builder.enumType('IncidentGrouping', {
  values: {
    DETECTOR: { description: 'One incident per stream and detector.' },
    SERIES: { description: 'One incident per stream, detector and series key.' },
  } as const,
});

const IncidentPolicyInput = builder.inputType('IncidentPolicyInput', {
  description: 'How anomalies become incidents; every setting optional (defaults: DETECTOR, 300, 900, 1800).',
  fields: (t) => ({
    groupBy: t.field({ type: IncidentGroupingEnum }),
    correlationWindowSeconds: t.int({ description: 'An anomaly joins the open incident while the gap since the last one is under this.' }),
    flapWindowSeconds: t.int({ description: 'A resolved incident with a new anomaly within this is reopened.' }),
    quietPeriodSeconds: t.int({ description: 'An incident with no new anomaly for this long resolves itself.' }),
  }),
});

const RegisterDetectorInput = builder.inputType('RegisterDetectorInput', {
  fields: (t) => ({
    streamId: t.id({ required: true }),
    name: t.string({ required: true }),
    field: t.string({ required: true }),
    kind: t.field({ type: DetectorKindEnum, required: true }),
    params: t.field({ type: 'JSON', description: 'Default {}.' }),
    mode: t.field({ type: DetectorModeEnum, defaultValue: 'ACTIVE' }),
    severity: t.field({ type: SeverityEnum, defaultValue: 'WARNING' }),
    incidentPolicy: t.field({ type: IncidentPolicyInput }),
  }),
});

const UpdateDetectorInput = builder.inputType('UpdateDetectorInput', {
  fields: (t) => ({
    kind: t.field({ type: DetectorKindEnum }),
    params: t.field({
      type: 'JSON',
      description: "Settings to change; the others keep their current values (a new kind starts from that kind's defaults).",
    }),
    mode: t.field({ type: DetectorModeEnum }),
    severity: t.field({ type: SeverityEnum }),
    incidentPolicy: t.field({ type: IncidentPolicyInput, description: 'Changes grouping only; alone, it makes no new version.' }),
  }),
});

builder.queryFields((t) => ({
  detectors: t.field({
    type: DetectorConnection,
    authScopes: { role: 'VIEWER' },
    args: { streamId: t.arg.id(), ...pageArgs(t.arg), includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.detectors.list(args.streamId, args),
  }),
  detector: t.field({
    type: DetectorRef,
    nullable: true,
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.detectors.find(args.id),
  }),
}));

builder.mutationFields((t) => ({
  registerDetector: t.field({
    type: DetectorRef,
    authScopes: { role: 'ADMIN' },
    args: { input: t.arg({ type: RegisterDetectorInput, required: true }) },
    audit: ({ input }) => ({ target: input.streamId, detail: input }),
    resolve: (_root, { input }, ctx) => ctx.services.detectors.register(input, principalOf(ctx).name),
  }),
  updateDetector: t.field({
    type: DetectorRef,
    description: 'Creates a new version; the old one stays in versions.',
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateDetectorInput, required: true }) },
    audit: (args) => ({ target: args.id, detail: args.input }),
    resolve: (_root, args, ctx) => ctx.services.detectors.update(args.id, args.input, principalOf(ctx).name),
  }),
  rollbackDetector: t.field({
    type: DetectorRef,
    description: 'Makes an earlier version current again, as a new version.',
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }), version: t.arg.int({ required: true }) },
    audit: (args) => ({ target: args.id, detail: { version: args.version } }),
    resolve: (_root, args, ctx) => ctx.services.detectors.rollback(args.id, args.version, principalOf(ctx).name),
  }),
}));
