import type { Db } from '../store/db.ts';
import type { RunbookExecution, StepExecution } from '../generated/prisma/client.ts';
import type { ExecutionStatus } from '../generated/prisma/enums.ts';
import { CHANNELS, type PubSub } from '../pubsub/pubsub.ts';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../core/errors.ts';
import { afterCommit } from '../store/ambient-transaction.ts';
import { createExecution } from '../incidents/writer.ts';
import { orderedKeyset, paginate, type OrderedPageArgs } from './pagination.ts';
import type { Principal } from '../core/principal.ts';

const UNFINISHED: readonly ExecutionStatus[] = ['PENDING_APPROVAL', 'QUEUED', 'RUNNING'];

export class ExecutionService {
  constructor(
    private readonly db: Db,
    private readonly pubsub: PubSub,
  ) {}

  /** Newest first unless `args.orderBy` says OLDEST_FIRST. */
  list(where: { status?: ExecutionStatus[] | null }, args: OrderedPageArgs) {
    return paginate(args, ({ take, afterId }) => {
      const page = orderedKeyset(afterId, args.orderBy);
      return this.db.runbookExecution.findMany({
        where: {
          ...(where.status?.length ? { status: { in: where.status } } : {}),
          ...page.where,
        },
        orderBy: page.orderBy,
        take,
      });
    });
  }

  get(id: string): Promise<RunbookExecution | null> {
    return this.db.runbookExecution.findUnique({ where: { id } });
  }

  forIncident(incidentId: string): Promise<RunbookExecution[]> {
    return this.db.runbookExecution.findMany({ where: { incidentId }, orderBy: { id: 'asc' } });
  }

  steps(executionId: string): Promise<StepExecution[]> {
    return this.db.stepExecution.findMany({ where: { executionId }, orderBy: { index: 'asc' } });
  }

  /** A run by hand: no cooldown (a person decided), approval still applies. The outbox relay enqueues it. */
  async trigger(runbookId: string, incidentId: string | null | undefined, requester: Pick<Principal, 'name' | 'keyId'>): Promise<RunbookExecution> {
    const runbook = await this.db.runbook.findUnique({ where: { id: runbookId } });
    if (!runbook) throw new NotFoundError('runbook', runbookId, 'runbookId');
    if (runbook.archivedAt) throw new BadUserInputError('runbookId', 'the runbook is archived; restore it (restoreRunbook) to run it');
    if (incidentId && !(await this.db.incident.findUnique({ where: { id: incidentId }, select: { id: true } }))) {
      throw new NotFoundError('incident', incidentId, 'incidentId');
    }
    const id = await this.db.$transaction((tx) => createExecution(tx, runbook, incidentId ?? null, requester.name, new Date(), requester.keyId));
    await this.announce(id, incidentId ?? null);
    return this.db.runbookExecution.findUniqueOrThrow({ where: { id } });
  }

  /**
   * Releases a PENDING_APPROVAL execution. Four eyes: the key that requested
   * it cannot approve it unless its runbook says allowSelfApproval. Keys are
   * compared, not names, since two keys may share a display name.
   */
  async approve(id: string, approver: Pick<Principal, 'name' | 'keyId'>): Promise<RunbookExecution> {
    const actor = approver.name;
    const execution = await this.require(id);
    if (execution.status !== 'PENDING_APPROVAL') {
      throw new BadUserInputError('id', `the execution is ${execution.status}; only one PENDING_APPROVAL can be approved`);
    }
    if (execution.requestedByKeyId !== null && execution.requestedByKeyId === approver.keyId) {
      const runbook = await this.db.runbook.findUnique({ where: { id: execution.runbookId }, select: { allowSelfApproval: true } });
      if (!runbook?.allowSelfApproval) {
        throw new ForbiddenError('the key that requested this execution cannot approve it; another OPERATOR or ADMIN must');
      }
    }
    const updated = await this.db.$transaction(async (tx) => {
      const changed = await tx.runbookExecution.updateMany({
        where: { id, status: 'PENDING_APPROVAL' },
        data: { status: 'QUEUED', approvedBy: actor },
      });
      if (changed.count !== 1) throw new BadUserInputError('id', 'the execution changed meanwhile; read it again');
      if (execution.incidentId) {
        await tx.incidentEvent.create({ data: { incidentId: execution.incidentId, kind: 'RUNBOOK_APPROVED', message: `execution ${id} approved`, actor } });
      }
      return tx.runbookExecution.findUniqueOrThrow({ where: { id } });
    });
    await this.announce(id, execution.incidentId);
    return updated;
  }

  async cancel(id: string, actor: string): Promise<RunbookExecution> {
    const execution = await this.require(id);
    if (!UNFINISHED.includes(execution.status)) {
      throw new BadUserInputError('id', `the execution is ${execution.status}; only an unfinished one can be cancelled`);
    }
    const updated = await this.db.$transaction(async (tx) => {
      await tx.runbookExecution.updateMany({ where: { id, status: { in: [...UNFINISHED] } }, data: { status: 'CANCELLED', finishedAt: new Date() } });
      // The step running now finishes its attempt; the ones not started never will.
      await tx.stepExecution.updateMany({ where: { executionId: id, status: 'QUEUED' }, data: { status: 'CANCELLED' } });
      if (execution.incidentId) {
        await tx.incidentEvent.create({ data: { incidentId: execution.incidentId, kind: 'RUNBOOK_CANCELLED', message: `execution ${id} cancelled`, actor } });
      }
      return tx.runbookExecution.findUniqueOrThrow({ where: { id } });
    });
    await this.announce(id, execution.incidentId);
    return updated;
  }

  private async require(id: string): Promise<RunbookExecution> {
    const execution = await this.get(id);
    if (!execution) throw new NotFoundError('execution', id, 'id');
    return execution;
  }

  /** After commit: a subscriber told of the change must be able to read it, and never of one that rolled back. */
  private async announce(id: string, incidentId: string | null): Promise<void> {
    await afterCommit(async () => {
      await this.pubsub.publish(CHANNELS.executions, { id });
      if (incidentId) await this.pubsub.publish(CHANNELS.incidents, { id: incidentId });
    });
  }
}
