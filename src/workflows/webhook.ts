import { createHmac } from 'node:crypto';
import { outboundRefusal, postOutbound, type OutboundAnswer } from '../outbound/post.ts';
import { redactUrl } from '../core/redact-url.ts';
import type { StepAction } from './step-context.ts';
import { StepFailure } from './step-context.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const SIGNATURE_HEADER = 'X-Vigil-Signature';

/** The Idempotency-Key of a step: the same on every retry, so a receiver recognises one. */
export function idempotencyKey(executionId: string, index: number): string {
  return `${executionId}:${index}`;
}

/** `sha256=<hex HMAC of the body>`, the signature a receiver checks with the shared secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * WEBHOOK: POST the incident, the execution and the step as JSON, through the
 * outbound guard (public addresses or VIGIL_WEBHOOK_ALLOW only, no redirects,
 * the answer read up to a cap). 2xx is success; anything else, a timeout or a
 * network error is retried by BullMQ (a refused target, a redirect and a 4xx
 * other than 408/429 are final: trying again reaches the same answer).
 * The output keeps the status and a short redacted excerpt of the answer.
 */
export const webhookAction: StepAction = async ({ execution, runbookName, incident, step, params, attempt, delivery, services }) => {
  const body = JSON.stringify({
    incident: incident && {
      id: incident.id,
      title: incident.title,
      status: incident.status,
      severity: incident.severity,
      streamId: incident.streamId,
      anomalyCount: incident.anomalyCount,
      openedAt: incident.openedAt,
    },
    execution: { id: execution.id, runbookId: execution.runbookId, runbook: runbookName, requestedBy: execution.requestedBy },
    // The Idempotency-Key stays the same for every try; `delivery` tells a receiver which one this is.
    step: { index: step.index, action: step.action, attempt, delivery },
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...((params.headers as Record<string, string> | undefined) ?? {}),
    [IDEMPOTENCY_HEADER]: idempotencyKey(execution.id, step.index),
  };
  if (typeof params.secret === 'string') headers[SIGNATURE_HEADER] = signBody(params.secret, body);
  const url = String(params.url);
  const shown = redactUrl(url);
  const timeoutMs = Number(params.timeoutMs ?? 5000);
  let answer: OutboundAnswer;
  try {
    answer = await postOutbound({ url, headers, body, timeoutMs }, services.outbound);
  } catch (error) {
    const refused = outboundRefusal(error);
    if (refused) throw new StepFailure(`POST ${shown} refused: ${refused.message}`);
    const name = (error as Error).name;
    const reason = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new Error(`POST ${shown} failed: ${reason}`);
  }
  const { status, excerpt, truncated } = answer;
  if (status >= 200 && status < 300) return { status, excerpt, truncated };
  if (status >= 300 && status < 400) {
    const target = answer.location === undefined ? '' : ` to ${redactUrl(answer.location)}`;
    throw new StepFailure(`POST ${shown} answered ${status}${target}; redirects are not followed: give the final URL`);
  }
  const message = `POST ${shown} answered ${status}${excerpt ? `: ${excerpt}` : ''}`;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new StepFailure(message);
  throw new Error(message);
};
