/**
 * Shapes of the console's query results. Enums come from the SDK's codegen
 * (sdk/generated, built from schema.graphql), so a renamed value fails the
 * console's type check too.
 */
import type {
  AnomalyLabel,
  DetectorKind,
  ExecutionStatus,
  IncidentStatus,
  Role,
  SeriesPointsQuery,
  Severity,
  SlaObjective,
  StreamStatus,
} from '../../sdk/generated/index.ts';

export type { AnomalyLabel, ExecutionStatus, IncidentStatus, Role, Severity };

/** A scored event of a detector's series with its expected band (seriesPoints). */
export type SeriesPoint = SeriesPointsQuery['seriesPoints'][number];

export interface EventRef {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  timestamp: string;
}

export interface Anomaly {
  id: string;
  cursor?: string | null;
  detectedAt: string;
  eventTime: string;
  seriesKey: string | null;
  field: string;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  score: number;
  severity: Severity;
  explanation: string;
  label: AnomalyLabel | null;
  detectorVersion: number;
  traceId: string | null;
  source: EventRef;
  detector: { id: string; name: string };
  stream: { id: string; name: string; schemaVersion?: number };
  incident: { id: string; title: string } | null;
  /** The silence (maintenance window) it fell in: recorded, but no incident. */
  silence: { id: string; reason: string; endsAt: string } | null;
}

/** A maintenance window (`silences`): anomalies it covers open no incident. */
export interface Silence {
  id: string;
  stream: { id: string; name: string };
  detector: { id: string; name: string } | null;
  seriesKey: string | null;
  startsAt: string;
  endsAt: string;
  reason: string;
  createdBy: string;
  active: boolean;
}

export interface StreamHealth {
  ingestionLag: number;
  eventsPerSecond: number;
  errorRate: number;
  deadLetters: number;
  canaryLatencySeconds: number | null;
  freshnessSeconds: number | null;
  lastEventAt: string | null;
  /** Asked for on the stream page only. */
  workers?: { id: string; partitions: number[] }[];
}

export interface StreamSummary {
  id: string;
  name: string;
  topic: string;
  status: StreamStatus;
  partitions: number;
  schemaVersion: number;
  keyField: string | null;
  valueFields: string[];
  health: StreamHealth;
}

export interface Detector {
  id: string;
  name: string;
  field: string;
  kind: DetectorKind;
  mode: string;
  version: number;
  params: unknown;
  drifting: boolean;
  severity: Severity;
  stats: { anomalies: number; truePositives: number; falsePositives: number; precision: number | null };
}

/** What the server says of one setting of a detector kind (`detectorKinds`). */
export interface SettingGuide {
  name: string;
  description: string;
  accepts: string;
  hasDefault: boolean;
  default: unknown;
}

export interface Sla {
  id: string;
  name: string;
  objective: SlaObjective;
  threshold: number;
  windowSeconds: number;
  state: { met: boolean; current: number | null; evaluatedAt: string | null };
}

export interface DeadLetter {
  id: string;
  reason: string;
  receivedAt: string;
  reprocessedAt: string | null;
  payload: string;
  source: EventRef;
}

export interface IncidentSummary {
  id: string;
  title: string;
  status: IncidentStatus;
  severity: Severity;
  openedAt: string;
  resolvedAt: string | null;
  anomalyCount: number;
  stream: { id: string; name: string };
}

export interface StepExecution {
  index: number;
  action: string;
  status: ExecutionStatus;
  attempts: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Execution {
  id: string;
  status: ExecutionStatus;
  requestedBy: string;
  approvedBy: string | null;
  createdAt: string;
  finishedAt: string | null;
  verified: boolean | null;
  runbook: { id: string; name: string; requiresApproval: boolean; allowSelfApproval: boolean };
  steps: StepExecution[];
}

export interface IncidentDetail extends IncidentSummary {
  acknowledgedAt: string | null;
  timeline: { at: string; kind: string; message: string; actor: string | null }[];
  anomalies: { edges: { node: Anomaly }[] };
  executions: Execution[];
}

export interface Postmortem {
  summary: string;
  startedAt: string;
  resolvedAt: string | null;
  durationSeconds: number | null;
  anomalyCount: number;
  seriesAffected: string[];
  remediationVerified: boolean | null;
  openQuestions: string[];
  markdown: string;
  timeline: { at: string; source: string; message: string; actor: string | null }[];
  firstAnomaly: Anomaly | null;
  remediation: Execution[];
  incident: { id: string; title: string; severity: Severity; stream: { id: string; name: string } };
}

export interface Viewer {
  role: Role;
  apiKey: { id: string; name: string };
}
