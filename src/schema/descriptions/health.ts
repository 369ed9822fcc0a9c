import type { Descriptions } from './apply.ts';

export const HEALTH_DESCRIPTIONS: Descriptions = {
  Health: 'How Vigil and its streams are doing now.',
  'Health.status': 'The worst status of the components: OK, DEGRADED or DOWN.',
  'Health.components': 'PostgreSQL, Redis, Kafka and the workers, each with its status.',
  'Health.streams': 'The health of every stream.',

  ComponentHealth: 'One part Vigil depends on.',
  'ComponentHealth.name': 'Which: PostgreSQL, Redis, Kafka or workers.',
  'ComponentHealth.status': 'OK, DEGRADED (e.g. no worker reported in the last 15 s) or DOWN (did not answer within the check timeout).',
  'ComponentHealth.detail': 'Why, when not OK (the error, or what is missing); e.g. "2 worker(s) alive" when OK.',

  HealthStatus: 'How a component, or Vigil as a whole, is doing.',
  'HealthStatus.OK': 'Working.',
  'HealthStatus.DEGRADED': 'Answering, but not doing all its work (e.g. no worker alive).',
  'HealthStatus.DOWN': 'Not answering.',

  StreamHealth: 'How one stream is doing now: lag, rates over the last minute, dead letters, freshness and canaries.',
  'StreamHealth.stream': 'The stream.',
  'StreamHealth.eventsPerSecond': 'Events processed per second over the last minute.',
  'StreamHealth.errorRate': 'Dead letters / events over the last minute, a fraction from 0 to 1 (0 without events).',
  'StreamHealth.deadLetters': 'Dead letters of the stream not yet reprocessed.',
  'StreamHealth.lastEventAt': 'Kafka timestamp of the newest event processed; null when none ever was.',
  'StreamHealth.freshnessSeconds': 'Seconds since lastEventAt; null when no event was ever processed.',

  'Query.health': 'Components and streams, as now. Role: VIEWER. (Without a key, GET /healthz and /readyz say whether the process is up and ready.)',
  'Subscription.streamHealth': 'The health of streams, pushed each time a worker reports new counts for one (about every 2 s while events flow). Role: VIEWER.',
  'Subscription.streamHealth(streamId)': 'Only this stream; absent: every stream.',
};
