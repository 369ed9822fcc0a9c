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
  Sla,
  StepExecution,
  Stream,
} from '../generated/prisma/client.ts';
import type { ComponentHealth, StreamHealth } from '../services/health.ts';
import type { Principal } from '../core/principal.ts';
import type { RunbookStep } from '../services/runbooks.ts';
import { builder } from './builder.ts';

/**
 * Object refs declared in one place so domain files can point at each other's
 * types (a Stream lists Detectors, a Detector names its Stream) without
 * import cycles. Each is implemented in its domain's file.
 */
export const StreamRef = builder.objectRef<Stream>('Stream');
export const StreamHealthRef = builder.objectRef<StreamHealth>('StreamHealth');
export const ComponentHealthRef = builder.objectRef<ComponentHealth>('ComponentHealth');
export const DetectorRef = builder.objectRef<Detector>('Detector');
export const DetectorVersionRef = builder.objectRef<DetectorVersion>('DetectorVersion');
export const SlaRef = builder.objectRef<Sla>('Sla');
export const RunbookRef = builder.objectRef<Runbook>('Runbook');
export const RunbookStepRef = builder.objectRef<RunbookStep>('RunbookStep');
export const RunbookExecutionRef = builder.objectRef<RunbookExecution>('RunbookExecution');
export const StepExecutionRef = builder.objectRef<StepExecution>('StepExecution');
export const AnomalyRef = builder.objectRef<Anomaly>('Anomaly');
export const IncidentRef = builder.objectRef<Incident>('Incident');
export const IncidentEventRef = builder.objectRef<IncidentEvent>('IncidentEvent');
export const DeadLetterRef = builder.objectRef<DeadLetter>('DeadLetter');
export const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey');
export const AuditEntryRef = builder.objectRef<AuditEntry>('AuditEntry');
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
