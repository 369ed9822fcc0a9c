import type { Db } from '../db.ts';
import type { RunbookExecution, StepExecution } from '../generated/prisma/client.ts';
import type { ExecutionStatus } from '../generated/prisma/enums.ts';
import { idKeyset, paginate, type PageArgs } from './pagination.ts';

export class ExecutionService {
  constructor(private readonly db: Db) {}

  list(where: { status?: ExecutionStatus[] | null; runbookId?: string }, args: PageArgs) {
    return paginate(args, ({ take, afterId }) =>
      this.db.runbookExecution.findMany({
        where: {
          ...(where.status?.length ? { status: { in: where.status } } : {}),
          ...(where.runbookId ? { runbookId: where.runbookId } : {}),
          ...idKeyset(afterId),
        },
        orderBy: { id: 'asc' },
        take,
      }),
    );
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
}
