import { createHmac } from 'node:crypto';
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
 * WEBHOOK: POST the incident, the execution and the step as JSON. 2xx is
 * success; anything else, a timeout or a network error is retried by BullMQ
 * (a 4xx other than 408/429 is final: the request itself is wrong).
 */
export const webhookAction: StepAction = async ({ execution, runbookName, incident, step, params, attempt }) => {
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
    step: { index: step.index, action: step.action, attempt },
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...((params.headers as Record<string, string> | undefined) ?? {}),
    [IDEMPOTENCY_HEADER]: idempotencyKey(execution.id, step.index),
  };
  if (typeof params.secret === 'string') headers[SIGNATURE_HEADER] = signBody(params.secret, body);
  const url = String(params.url);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(Number(params.timeoutMs ?? 5000)) });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${params.timeoutMs} ms` : (error as Error).message;
    throw new Error(`POST ${url} failed: ${reason}`);
  }
  const text = (await response.text().catch(() => '')).slice(0, 2000);
  if (response.ok) return { status: response.status, body: text };
  const message = `POST ${url} answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new StepFailure(message);
  throw new Error(message);
};
