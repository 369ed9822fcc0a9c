import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Prisma } from '../generated/prisma/client.ts';
import type { Services } from '../services/container.ts';
import { jobIds, verifyJobOptions } from './queue.ts';
import { pagedPass } from './paged-pass.ts';
import { verifyWithinSeconds } from './runbook-verify.ts';
import { ownsExecution, TRIGGER_STREAM_SELECT, type TriggerStream } from './execution-owner.ts';

/** verifyWithinSeconds is at most a day (step-params.ts): a verification still due finished less than this long ago. */
const LOOKBACK_MS = 2 * 86_400_000;

interface Candidate {
  id: string;
  finishedAt: Date | null;
  runbook: TriggerStream;
  steps: { params: Prisma.JsonValue }[];
}

/**
 * The verification of a SUCCEEDED execution is a delayed BullMQ job; when
 * Redis loses its data before the delay is up, PostgreSQL still says the
 * execution waits for it (verified null, a step asking for it). Each pass
 * finds such executions whose job Redis no longer has and enqueues it again,
 * under the same job id, due when it was due (at once if that time passed).
 * A job that does exist is never doubled. Pages through the candidates
 * (paged-pass.ts) as reconcileRunbooks does.
 */
export function reconcileVerifications(
  services: Services,
  queue: Queue,
  log: Logger,
  acceptsStream: (streamName: string) => boolean,
  batchSize = 100,
): () => Promise<void> {
  const nextPage = pagedPass(batchSize, (afterId, take): Promise<Candidate[]> =>
    services.ports.db.runbookExecution.findMany({
      where: { status: 'SUCCEEDED', verified: null, incidentId: { not: null }, finishedAt: { gt: new Date(Date.now() - LOOKBACK_MS) }, id: { gt: afterId } },
      orderBy: { id: 'asc' },
      take,
      select: {
        id: true,
        finishedAt: true,
        runbook: TRIGGER_STREAM_SELECT,
        steps: { select: { params: true } },
      },
    }),
  );
  return async () => {
    const due = (await nextPage()).flatMap((c) => {
      const within = verifyWithinSeconds(c.steps);
      return ownsExecution(c.runbook, acceptsStream) && within > 0 ? [{ id: c.id, dueAt: c.finishedAt!.getTime() + within * 1000 }] : [];
    });
    const states = await Promise.all(due.map((c) => queue.getJobState(jobIds.verify(c.id))));
    for (const [i, execution] of due.entries()) {
      if (states[i] !== 'unknown') continue;
      await queue.add('verify', { executionId: execution.id }, verifyJobOptions(execution.id, execution.dueAt - Date.now()));
      log.warn({ execution: execution.id }, 'runbook verification missing from Redis: enqueued again');
    }
  };
}
