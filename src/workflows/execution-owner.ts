/**
 * Which worker looks after an execution: one limited to some streams
 * (VIGIL_WORKER_STREAMS) relays, reconciles and verifies the executions of
 * runbooks triggered by those streams only; a runbook without a stream
 * trigger belongs to every worker.
 */

/** The part of an execution's runbook the check reads (a Prisma `select`). */
export const TRIGGER_STREAM_SELECT = {
  select: { triggerStream: { select: { name: true } }, triggerDetector: { select: { stream: { select: { name: true } } } } },
} as const;

export interface TriggerStream {
  triggerStream: { name: string } | null;
  triggerDetector: { stream: { name: string } } | null;
}

export function ownsExecution(runbook: TriggerStream, acceptsStream: (streamName: string) => boolean): boolean {
  const streamName = runbook.triggerStream?.name ?? runbook.triggerDetector?.stream.name;
  return streamName === undefined || acceptsStream(streamName);
}
