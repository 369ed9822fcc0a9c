import type { Db } from '../store/db.ts';
import type { DeadLetter } from '../generated/prisma/client.ts';
import type { ContractCache } from '../stream/contracts.ts';
import { SCHEMA_VERSION_HEADER, type EventProducer } from '../stream/transport.ts';
import { afterCommit } from '../store/ambient-transaction.ts';
import { BadUserInputError } from '../core/errors.ts';
import { orderedKeyset, paginate, type OrderedPageArgs } from './pagination.ts';

export const MAX_REPROCESS = 1000;

export class DeadLetterService {
  constructor(
    private readonly db: Db,
    private readonly contracts: ContractCache,
    private readonly producer: EventProducer,
  ) {}

  /** Newest first unless `args.orderBy` says OLDEST_FIRST. */
  list(streamId: string | null | undefined, args: OrderedPageArgs) {
    return paginate(args, ({ take, afterId }) => {
      const page = orderedKeyset(afterId, args.orderBy);
      return this.db.deadLetter.findMany({ where: { ...(streamId ? { streamId } : {}), ...page.where }, orderBy: page.orderBy, take });
    });
  }

  get(id: string): Promise<DeadLetter | null> {
    return this.db.deadLetter.findUnique({ where: { id } });
  }

  /**
   * Checks each dead letter again against its stream's CURRENT contract (the
   * usual fix is a schema update); those that now pass are produced to the
   * stream's topic again as new events and marked reprocessed. Returns how
   * many were. Ones still invalid stay as they are.
   */
  async reprocess(ids: string[]): Promise<number> {
    if (ids.length === 0 || ids.length > MAX_REPROCESS) throw new BadUserInputError('ids', `give 1 to ${MAX_REPROCESS} dead-letter ids`);
    const letters = await this.db.deadLetter.findMany({
      where: { id: { in: ids }, reprocessedAt: null },
      include: { stream: true },
    });
    let reprocessed = 0;
    for (const letter of letters) {
      let value: unknown;
      try {
        value = JSON.parse(letter.payload);
      } catch {
        continue;
      }
      const validate = await this.contracts.validator(letter.streamId, letter.stream.schemaVersion);
      if (!validate(value).ok) continue;
      // Mark first: a crash between the two leaves a letter marked but not re-sent, visible and retryable by hand,
      // rather than an event produced twice. In a mutation's transaction the mark is only final at commit, so the
      // produce waits for it: produced before a rollback, the letter would be re-sent again on retry.
      const marked = await this.db.deadLetter.updateMany({ where: { id: letter.id, reprocessedAt: null }, data: { reprocessedAt: new Date() } });
      if (marked.count !== 1) continue;
      await afterCommit(() => this.producer.produce(letter.stream.topic, [
        {
          key: letter.eventKey,
          value: letter.payload,
          headers: {
            'vigil-reprocessed-from': `${letter.topic}/${letter.partition}/${letter.offset}`,
            [SCHEMA_VERSION_HEADER]: String(letter.stream.schemaVersion),
          },
        },
      ]));
      reprocessed++;
    }
    return reprocessed;
  }
}
