import { HealthService, type WorkerProcess } from '../services/health.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { builder } from './builder.ts';
import { liveEvents } from './live.ts';
import { ComponentHealthRef, StreamHealthRef, StreamRef } from './refs.ts';

const HealthStatusEnum = builder.enumType('HealthStatus', { values: ['OK', 'DEGRADED', 'DOWN'] as const });

const WorkerProcessRef = builder.objectRef<WorkerProcess>('WorkerProcess').implement({
  description: 'A stream worker process (`vigil worker`, or a child of `vigil worker --processes N`) and the partitions of one stream it holds.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'host:pid, as in its logs.' }),
    host: t.exposeString('host', { description: 'The host name of its machine.' }),
    pid: t.exposeInt('pid', { description: 'Its process id on that host.' }),
    partitions: t.exposeIntList('partitions', { description: "The stream topic's partitions it holds, ascending." }),
    lastBeatAt: t.expose('lastBeatAt', { type: 'DateTime', description: 'Its latest heartbeat; a process silent for 15 s is no longer listed.' }),
  }),
});

StreamHealthRef.implement({
  fields: (t) => ({
    stream: t.field({ type: StreamRef, resolve: (h) => h.stream }),
    ingestionLag: t.exposeInt('ingestionLag', { description: 'Messages behind the end of the topic, summed over partitions.' }),
    eventsPerSecond: t.exposeFloat('eventsPerSecond'),
    errorRate: t.exposeFloat('errorRate'),
    deadLetters: t.exposeInt('deadLetters'),
    untrackedEvents: t.exposeInt('untrackedEvents', {
      description:
        'Events over the last minute that at least one detector did not score because their series was new and the detector already tracked VIGIL_MAX_SERIES_PER_DETECTOR series on that partition. 0: every series is tracked.',
    }),
    lastEventAt: t.expose('lastEventAt', { type: 'DateTime', nullable: true }),
    freshnessSeconds: t.exposeFloat('freshnessSeconds', { nullable: true }),
    canaryLatencySeconds: t.exposeFloat('canaryLatencySeconds', {
      nullable: true,
      description:
        'End-to-end time (produced to committed) of the newest complete round of synthetic canaries, one per partition; null before the first. See lastCanaryAt.',
    }),
    workers: t.field({
      type: [WorkerProcessRef],
      description:
        'The worker processes holding partitions of the stream now, from their heartbeats (every 5 s, and at once when partitions move), by id; empty while none does (no worker runs, or the stream is paused).',
      resolve: (h, _args, ctx) => ctx.services.health.workersOf(h.stream.topic),
    }),
    lastCanaryAt: t.expose('lastCanaryAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the newest complete round of canaries had been committed (its slowest partition); null before the first.',
    }),
  }),
});

ComponentHealthRef.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    status: t.expose('status', { type: HealthStatusEnum }),
    detail: t.exposeString('detail', { nullable: true }),
  }),
});

const HealthRef = builder.objectRef<{ components: Awaited<ReturnType<HealthService['components']>> }>('Health').implement({
  fields: (t) => ({
    status: t.field({ type: HealthStatusEnum, resolve: (h) => HealthService.overall(h.components) }),
    components: t.field({ type: [ComponentHealthRef], resolve: (h) => h.components }),
    streams: t.field({
      type: [StreamHealthRef],
      resolve: (_h, _a, ctx) => ctx.services.health.streams(),
    }),
  }),
});

builder.queryFields((t) => ({
  health: t.field({
    type: HealthRef,
    authScopes: { role: 'VIEWER' },
    resolve: async (_root, _args, ctx) => ({ components: await ctx.services.health.components() }),
  }),
}));

builder.subscriptionFields((t) => ({
  streamHealth: t.field({
    type: StreamHealthRef,
    authScopes: { role: 'VIEWER' },
    args: { streamId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      liveEvents(ctx, CHANNELS.streamHealth, async (message: { streamId: string }) => {
        if (args.streamId && message.streamId !== args.streamId) return undefined;
        return ctx.services.sharedStreamHealth.of(message.streamId);
      }),
    resolve: (health) => health,
  }),
}));
