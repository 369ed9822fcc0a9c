import { join } from 'node:path';
import { parseAllowEntry } from './allowlist.ts';
import { PROJECT_ROOT } from './paths.ts';

/**
 * Vigil's configuration: read from the environment once, validated as a whole,
 * so a bad deployment fails at start with every problem listed, not later with one.
 */
export interface Config {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  /** When set, this secret is accepted as an ADMIN key without being stored. */
  adminKey: string | undefined;
  /**
   * The audit chain's HMAC key (VIGIL_AUDIT_KEY, at least 32 characters).
   * Unset: one is generated once into <stateDir>/audit.key. Every process
   * sharing a database must use the same key: set it on multi-host deployments.
   */
  auditKey: string | undefined;
  /** Where a process keeps state outside the database (VIGIL_STATE_DIR; default <project>/.vigil). */
  stateDir: string;
  logLevel: string;
  /** Largest accepted event value in bytes; larger ones are dead-lettered. */
  maxEventBytes: number;
  /**
   * Longest series key, in characters (VIGIL_MAX_KEY_LENGTH): an event whose key is longer is a
   * dead letter before detection, since its key would be held in memory per series and written to
   * indexed columns. See docs/faults.md, "Bounded state".
   */
  maxKeyLength: number;
  /**
   * Series a detector tracks on one partition (VIGIL_MAX_SERIES_PER_DETECTOR): events of further
   * series are counted (StreamHealth.untrackedEvents), not scored. Bounds a worker's memory.
   */
  maxSeriesPerDetector: number;
  /** Partitions given to a new stream's topic when registerStream does not say. */
  defaultPartitions: number;
  /** Kafka consumer group shared by all workers. */
  consumerGroup: string;
  /**
   * Stream names this worker consumes ("*" wildcards), e.g. to give a hot
   * stream workers of its own; undefined: every stream.
   */
  workerStreams: string[] | undefined;
  /** Detector state is checkpointed at least every this many events per partition... */
  checkpointEvents: number;
  /** ...or this often (ms), whichever comes first. */
  checkpointIntervalMs: number;
  /** Largest fetch per partition: bounds a batch, hence a transaction and the memory it holds. */
  fetchMaxBytes: number;
  /**
   * How long the group waits for a silent worker before moving its partitions (Kafka allows 6000 and up).
   * A worker restarted after a crash waits this long to rejoin, so it bounds the restart (docs/faults.md, "Restarts").
   */
  sessionTimeoutMs: number;
  /** BullMQ key prefix; by default derived from the database name, so two Vigils on one Redis never share jobs. */
  queuePrefix: string;
  /** First retry delay of a failed runbook step; doubles each attempt. */
  stepBackoffMs: number;
  /**
   * How long a runbook step's worker holds it without renewing (VIGIL_STEP_LOCK_MS): a step whose
   * worker died is taken over within this plus a quarter of it (the stalled-job check runs every quarter).
   */
  stepLockMs: number;
  /** Takeovers of a step whose worker died before it ends FAILED (VIGIL_STEP_MAX_STALLS). */
  stepMaxStalls: number;
  /** How often executions whose BullMQ job Redis no longer has are enqueued again (VIGIL_RECONCILE_MS). */
  reconcileMs: number;
  /** How often recurring jobs missing from Redis are re-created and their last runs checked (VIGIL_SCHEDULE_CHECK_MS). */
  scheduleCheckMs: number;
  /** Where SCALE steps POST { target, replicas }; unset: SCALE steps fail saying so. */
  scaleHookUrl: string | undefined;
  /**
   * Exceptions to "webhooks reach public addresses only" (VIGIL_WEBHOOK_ALLOW,
   * comma-separated), for receivers knowingly run inside the network: host
   * names or IP literals (any port), host:port (that port), or CIDR ranges
   * (any host resolving into one). Empty: none. See docs/security.md.
   */
  webhookAllow: string[];
  /** How often incidents are checked for a quiet period (auto-resolve). */
  incidentSweepMs: number;
  /** How often rows past their stream's retentionDays are deleted. */
  retentionSweepMs: number;
  /** Where a process without the gateway (`vigil worker`) serves GET /metrics; undefined: nowhere. */
  metricsPort: number | undefined;
  /** How often SLAs are evaluated (a BullMQ job scheduler). */
  slaEvaluationMs: number;
  /** How often a synthetic canary goes to each partition of each ACTIVE stream (a BullMQ job scheduler); 0: never. */
  canaryMs: number;
  /** How often the self-monitoring sampler runs (a BullMQ job scheduler); 0: never. */
  selfMonitorMs: number;
  /** Stream names the sampler watches ("*" wildcards); undefined: every ACTIVE stream. */
  selfMonitorStreams: string[] | undefined;
  /** Consumer group whose committed offsets the sampler measures ingestion lag against (default: consumerGroup). */
  selfMonitorGroup: string;
  /** Self-monitoring: ingestion lag (events) above which a stream's pipeline is degraded. */
  selfLagMax: number;
  /** Self-monitoring: error rate (dead letters / events, last minute) above which a stream's pipeline is degraded. */
  selfErrorRateMax: number;
  /** Self-monitoring: seconds a canary may be overdue (VIGIL_CANARY_TIMEOUT_SECONDS). */
  selfCanaryMaxSeconds: number;
  /** Self-monitoring incidents resolve after this many quiet seconds. */
  selfQuietSeconds: number;
  /** The edge's limits: request size, rate limits, sockets (see docs/security.md). */
  edge: EdgeLimits;
}

export interface EdgeLimits {
  /** Largest HTTP body or graphql-ws message, in bytes (VIGIL_MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  /** Cost points a key may spend per second, refilled continuously (VIGIL_RATE_POINTS_PER_SECOND)... */
  ratePointsPerSecond: number;
  /** ...and may save up to, for bursts (VIGIL_RATE_BURST). */
  rateBurst: number;
  /** The same for requests without a key, counted per client address (VIGIL_ANON_RATE_POINTS_PER_SECOND, VIGIL_ANON_RATE_BURST). */
  anonymousPointsPerSecond: number;
  anonymousBurst: number;
  /** Failed authentication attempts an address may make per minute, as a burst (VIGIL_AUTH_FAILURES_PER_MINUTE). */
  authFailuresPerMinute: number;
  /** Open graphql-ws sockets one key may hold (VIGIL_WS_MAX_SOCKETS_PER_KEY). */
  maxSocketsPerKey: number;
  /** Active subscriptions on one socket (VIGIL_WS_MAX_SUBSCRIPTIONS). */
  maxSubscriptionsPerSocket: number;
  /** How often open sockets' keys are checked for revocation, in ms (VIGIL_KEY_RECHECK_MS). */
  keyRecheckMs: number;
  /** Origins a browser may call from (VIGIL_CORS_ORIGINS, comma-separated); empty: no cross-origin calls. */
  corsOrigins: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/vigil';

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const decimal = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      problems.push(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const url = (name: string, fallback: string, protocols: string[]): string => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
      }
    } catch {
      problems.push(`${name} is not a URL: "${raw}"`);
    }
    return raw;
  };

  const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) problems.push('KAFKA_BROKERS must list at least one host:port');
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(broker)) {
      problems.push(`KAFKA_BROKERS entry "${broker}" is not host:port`);
    }
  }

  const adminKey = env.VIGIL_ADMIN_KEY === '' ? undefined : env.VIGIL_ADMIN_KEY;
  if (adminKey !== undefined && adminKey.length < 16) {
    problems.push('VIGIL_ADMIN_KEY must be at least 16 characters');
  }

  const auditKey = env.VIGIL_AUDIT_KEY === '' ? undefined : env.VIGIL_AUDIT_KEY;
  if (auditKey !== undefined && auditKey.trim().length < 32) {
    problems.push('VIGIL_AUDIT_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  }

  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }

  const webhookAllow = (env.VIGIL_WEBHOOK_ALLOW ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of webhookAllow) {
    try {
      parseAllowEntry(entry);
    } catch (error) {
      problems.push(`VIGIL_WEBHOOK_ALLOW entry ${(error as Error).message}`);
    }
  }

  const config: Config = {
    port: integer('PORT', 4000, 0, 65535),
    databaseUrl: url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgresql:', 'postgres:']),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    kafkaBrokers: brokers,
    adminKey,
    auditKey: auditKey?.trim(),
    stateDir: env.VIGIL_STATE_DIR || join(PROJECT_ROOT, '.vigil'),
    logLevel,
    maxEventBytes: integer('VIGIL_MAX_EVENT_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024),
    maxKeyLength: integer('VIGIL_MAX_KEY_LENGTH', 256, 1, 1_000_000),
    maxSeriesPerDetector: integer('VIGIL_MAX_SERIES_PER_DETECTOR', 100_000, 1, 100_000_000),
    defaultPartitions: integer('VIGIL_DEFAULT_PARTITIONS', 3, 1, 1000),
    consumerGroup: env.VIGIL_CONSUMER_GROUP || 'vigil',
    checkpointEvents: integer('VIGIL_CHECKPOINT_EVENTS', 100_000, 1, 10_000_000),
    checkpointIntervalMs: integer('VIGIL_CHECKPOINT_INTERVAL_MS', 10_000, 100, 3_600_000),
    queuePrefix: env.VIGIL_QUEUE_PREFIX || `vigil-${databaseName(env.DATABASE_URL || DEFAULT_DATABASE_URL)}`,
    stepBackoffMs: integer('VIGIL_STEP_BACKOFF_MS', 2000, 10, 3_600_000),
    stepLockMs: integer('VIGIL_STEP_LOCK_MS', 10_000, 1_000, 600_000),
    stepMaxStalls: integer('VIGIL_STEP_MAX_STALLS', 3, 0, 100),
    reconcileMs: integer('VIGIL_RECONCILE_MS', 15_000, 100, 3_600_000),
    scheduleCheckMs: integer('VIGIL_SCHEDULE_CHECK_MS', 15_000, 100, 3_600_000),
    scaleHookUrl: env.VIGIL_SCALE_HOOK_URL ? url('VIGIL_SCALE_HOOK_URL', '', ['http:', 'https:']) : undefined,
    webhookAllow,
    incidentSweepMs: integer('VIGIL_INCIDENT_SWEEP_MS', 10_000, 100, 3_600_000),
    metricsPort: env.VIGIL_METRICS_PORT ? integer('VIGIL_METRICS_PORT', 0, 1, 65535) : undefined,
    retentionSweepMs: integer('VIGIL_RETENTION_SWEEP_MS', 3_600_000, 1_000, 86_400_000),
    slaEvaluationMs: integer('VIGIL_SLA_EVALUATION_MS', 10_000, 100, 3_600_000),
    canaryMs: integer('VIGIL_CANARY_MS', 60_000, 0, 86_400_000),
    selfMonitorMs: integer('VIGIL_SELF_MONITOR_MS', 10_000, 0, 3_600_000),
    selfMonitorStreams: env.VIGIL_SELF_MONITOR_STREAMS
      ? env.VIGIL_SELF_MONITOR_STREAMS.split(',').map((p) => p.trim()).filter((p) => p !== '')
      : undefined,
    selfMonitorGroup: env.VIGIL_SELF_MONITOR_GROUP || env.VIGIL_CONSUMER_GROUP || 'vigil',
    selfLagMax: integer('VIGIL_SELF_LAG_MAX', 10_000, 0, 1_000_000_000),
    selfErrorRateMax: decimal('VIGIL_SELF_ERROR_RATE_MAX', 0.05, 0, 1),
    selfCanaryMaxSeconds: integer('VIGIL_CANARY_TIMEOUT_SECONDS', 180, 1, 86_400),
    selfQuietSeconds: integer('VIGIL_SELF_QUIET_SECONDS', 120, 1, 30 * 24 * 3600),
    edge: {
      maxRequestBytes: integer('VIGIL_MAX_REQUEST_BYTES', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      ratePointsPerSecond: integer('VIGIL_RATE_POINTS_PER_SECOND', 2_000, 1, 1_000_000_000),
      rateBurst: integer('VIGIL_RATE_BURST', 100_000, 1, 1_000_000_000),
      anonymousPointsPerSecond: integer('VIGIL_ANON_RATE_POINTS_PER_SECOND', 20, 1, 1_000_000_000),
      anonymousBurst: integer('VIGIL_ANON_RATE_BURST', 200, 1, 1_000_000_000),
      authFailuresPerMinute: integer('VIGIL_AUTH_FAILURES_PER_MINUTE', 20, 1, 1_000_000),
      maxSocketsPerKey: integer('VIGIL_WS_MAX_SOCKETS_PER_KEY', 32, 1, 100_000),
      maxSubscriptionsPerSocket: integer('VIGIL_WS_MAX_SUBSCRIPTIONS', 50, 1, 100_000),
      keyRecheckMs: integer('VIGIL_KEY_RECHECK_MS', 5_000, 100, 600_000),
      corsOrigins: (env.VIGIL_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== ''),
    },
    sessionTimeoutMs: integer('VIGIL_SESSION_TIMEOUT_MS', 10_000, 6_000, 300_000),
    fetchMaxBytes: integer('VIGIL_FETCH_MAX_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    workerStreams: env.VIGIL_WORKER_STREAMS
      ? env.VIGIL_WORKER_STREAMS.split(',').map((p) => p.trim()).filter((p) => p !== '')
      : undefined,
  };
  if (config.selfMonitorMs > 0 && config.selfMonitorMs < 100) {
    problems.push(`VIGIL_SELF_MONITOR_MS must be 0 (off) or from 100 to 3600000, got "${env.VIGIL_SELF_MONITOR_MS}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function databaseName(databaseUrl: string): string {
  try {
    return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'default';
  } catch {
    return 'default';
  }
}
