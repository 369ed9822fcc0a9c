import type {
  Anomaly,
  ApiKey,
  AuditEntry,
  DeadLetter,
  Detector,
  DetectorVersion,
  Incident,
  IncidentEvent,
  Runbook,
  RunbookExecution,
  Silence,
  Sla,
  StepExecution,
  Stream,
} from '../generated/prisma/client.ts';
import type { ComponentHealth, StreamHealth } from '../services/health.ts';
import type { Principal } from '../core/principal.ts';
import type { Services } from '../services/container.ts';
import type { RunbookStep } from '../services/runbooks.ts';
import { builder } from './builder.ts';

/**
 * Object refs declared in one place so domain files can point at each other's
 * types (a Stream lists Detectors, a Detector names its Stream) without
 * import cycles. Each is implemented in its domain's file.
 *
 * The types with an id are Relay nodes loaded through a DataLoader: a field
 * of one of them may return the id alone (`resolve: (a) => a.streamId`), and
 * the ids of a whole page of parents are read in one statement. `node(id)`
 * reads through the same loaders.
 */
function nodeRef<T extends { id: string }>(name: string, load: (ids: readonly string[], services: Services) => Promise<T[]>) {
  return builder.loadableNodeRef<T, string, string>(name, {
    id: { resolve: (row) => row.id },
    load: (ids, ctx) => load(ids, ctx.services),
    sort: (row) => row.id,
  });
}

export const StreamRef = nodeRef<Stream>('Stream', (ids, s) => s.batch.streams(ids));
export const DetectorRef = nodeRef<Detector>('Detector', (ids, s) => s.batch.detectors(ids));
export const SlaRef = nodeRef<Sla>('Sla', (ids, s) => s.batch.slas(ids));
export const RunbookRef = nodeRef<Runbook>('Runbook', (ids, s) => s.batch.runbooks(ids));
export const RunbookExecutionRef = nodeRef<RunbookExecution>('RunbookExecution', (ids, s) => s.batch.executions(ids));
export const AnomalyRef = nodeRef<Anomaly>('Anomaly', (ids, s) => s.batch.anomalies(ids));
export const IncidentRef = nodeRef<Incident>('Incident', (ids, s) => s.batch.incidents(ids));
export const DeadLetterRef = nodeRef<DeadLetter>('DeadLetter', (ids, s) => s.batch.deadLetters(ids));
export const ApiKeyRef = nodeRef<ApiKey>('ApiKey', (ids, s) => s.batch.apiKeys(ids));
export const AuditEntryRef = nodeRef<AuditEntry>('AuditEntry', (ids, s) => s.batch.auditEntries(ids));
export const SilenceRef = nodeRef<Silence>('Silence', (ids, s) => s.batch.silences(ids));

export const StreamHealthRef = builder.objectRef<StreamHealth>('StreamHealth');
export const ComponentHealthRef = builder.objectRef<ComponentHealth>('ComponentHealth');
export const DetectorVersionRef = builder.objectRef<DetectorVersion>('DetectorVersion');
export const RunbookStepRef = builder.objectRef<RunbookStep>('RunbookStep');
export const StepExecutionRef = builder.objectRef<StepExecution>('StepExecution');
export const IncidentEventRef = builder.objectRef<IncidentEvent>('IncidentEvent');
export const ViewerRef = builder.objectRef<Principal>('Viewer');

/** Where an event sits in Kafka; offsets are decimal strings because they exceed 2^53. */
export interface EventRefShape {
  topic: string;
  partition: number;
  offset: bigint | string;
  key: string | null;
  timestamp: Date;
}
export const EventRefRef = builder.objectRef<EventRefShape>('EventRef').implement({
  fields: (t) => ({
    topic: t.exposeString('topic'),
    partition: t.exposeInt('partition'),
    offset: t.string({ resolve: (e) => e.offset.toString() }),
    key: t.exposeString('key', { nullable: true }),
    timestamp: t.expose('timestamp', { type: 'DateTime' }),
  }),
});
