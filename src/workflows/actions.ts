import type { RunbookAction } from '../generated/prisma/enums.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { StepFailure, type StepAction, type StepContext } from './step-context.ts';
import { webhookAction } from './webhook.ts';

function targetStream(context: StepContext): string {
  const streamId = (context.params.streamId as string | undefined) ?? context.incident?.streamId;
  if (!streamId) throw new StepFailure('no stream: give params.streamId or run the runbook for an incident');
  return streamId;
}

const replay: StepAction = async (context) => {
  const from = (context.params.fromTimestamp as string | undefined) ?? context.incident?.openedAt.toISOString();
  if (!from) throw new StepFailure('no start: give params.fromTimestamp or run the runbook for an incident');
  const result = await context.services.replay.replay({ streamId: targetStream(context), fromTimestamp: new Date(from) });
  return { fromOffsets: result.fromOffsets };
};

const setStatus =
  (status: 'ACTIVE' | 'PAUSED'): StepAction =>
  async (context) => {
    const stream = await context.services.streams.setStatus(targetStream(context), status);
    return { stream: stream.id, status: stream.status };
  };

const scale: StepAction = async ({ config, params, execution, step }) => {
  if (!config.scaleHookUrl) throw new StepFailure('no scale hook: set VIGIL_SCALE_HOOK_URL');
  const response = await fetch(config.scaleHookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Idempotency-Key': `${execution.id}:${step.index}` },
    body: JSON.stringify({ target: params.target, replicas: params.replicas, executionId: execution.id }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`scale hook answered ${response.status}`);
  return { target: params.target, replicas: params.replicas, status: response.status };
};

const notify: StepAction = async ({ services, incident, params, runbookName }) => {
  const message = (params.message as string | undefined) ?? `runbook "${runbookName}" notifies: ${incident?.title ?? 'no incident'}`;
  if (incident) {
    await services.ports.db.incidentEvent.create({ data: { incidentId: incident.id, kind: 'NOTIFIED', message, actor: `runbook ${runbookName}` } });
    await services.pubsub.publish(CHANNELS.incidents, { id: incident.id });
  }
  return { message };
};

/** What each step action does. */
export const ACTIONS: Record<RunbookAction, StepAction> = {
  WEBHOOK: webhookAction,
  REPLAY: replay,
  PAUSE_STREAM: setStatus('PAUSED'),
  RESUME_STREAM: setStatus('ACTIVE'),
  SCALE: scale,
  NOTIFY: notify,
};
