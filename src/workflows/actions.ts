import type { RunbookAction } from '../generated/prisma/enums.ts';
import { postOutbound } from '../outbound/post.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { redactUrl } from '../core/redact-url.ts';
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

/**
 * SCALE: POST to VIGIL_SCALE_HOOK_URL. That URL is operator configuration,
 * not something an API user can aim, and it usually is an in-cluster service,
 * so its address is trusted (no VIGIL_WEBHOOK_ALLOW entry needed); redirects
 * and the response cap apply as to webhooks, since the hook's answer is not ours.
 */
const scale: StepAction = async ({ config, params, execution, step }) => {
  const hookUrl = config.scaleHookUrl;
  if (!hookUrl) throw new StepFailure('no scale hook: set VIGIL_SCALE_HOOK_URL');
  const answer = await postOutbound(
    {
      url: hookUrl,
      headers: { 'content-type': 'application/json', 'Idempotency-Key': `${execution.id}:${step.index}` },
      body: JSON.stringify({ target: params.target, replicas: params.replicas, executionId: execution.id }),
      timeoutMs: 10_000,
    },
    'trusted',
  ).catch((error: Error) => {
    throw new Error(`scale hook ${redactUrl(hookUrl)} failed: ${error.message}`, { cause: error });
  });
  if (answer.status >= 300 && answer.status < 400) throw new StepFailure(`scale hook answered ${answer.status}; redirects are not followed`);
  if (answer.status < 200 || answer.status >= 300) throw new Error(`scale hook answered ${answer.status}`);
  return { target: params.target, replicas: params.replicas, status: answer.status };
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
