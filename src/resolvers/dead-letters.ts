import type { Db } from '../db.ts';
import type { DeadLetter } from '../generated/prisma/client.ts';
import { idKeyset, paginate, type PageArgs } from './pagination.ts';

export class DeadLetterService {
  constructor(private readonly db: Db) {}

  list(streamId: string | null | undefined, args: PageArgs) {
    return paginate(args, ({ take, afterId }) =>
      this.db.deadLetter.findMany({
        where: { ...(streamId ? { streamId } : {}), ...idKeyset(afterId) },
        orderBy: { id: 'asc' },
        take,
      }),
    );
  }

  get(id: string): Promise<DeadLetter | null> {
    return this.db.deadLetter.findUnique({ where: { id } });
  }

  count(streamId: string): Promise<number> {
    return this.db.deadLetter.count({ where: { streamId, reprocessedAt: null } });
  }
}
