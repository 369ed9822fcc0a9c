import type { Db } from '../store/db.ts';
import type { Silence } from '../generated/prisma/client.ts';
import { newId } from '../core/ids.ts';
import { BadUserInputError, NotFoundError } from '../core/errors.ts';
import type { RegistryVersion } from '../stream/registry-version.ts';
import { paginate, type Connection, type PageArgs } from './pagination.ts';

export interface CreateSilenceInput {
  streamId: string;
  detectorId?: string | null;
  seriesKey?: string | null;
  startsAt?: Date | null;
  endsAt: Date;
  reason: string;
}

/** A silence longer than this is refused: a forgotten one must not hide a stream for weeks. */
export const MAX_SILENCE_SECONDS = 7 * 24 * 3600;
const MAX_REASON = 500;
const MAX_SERIES_KEY = 500;

/**
 * Silences (maintenance windows): while one holds, the anomalies it covers are
 * still recorded, with it, but open no incident and run no runbook. Every
 * change bumps the registry version, so workers load it before their next batch.
 */
export class SilenceService {
  constructor(
    private readonly db: Db,
    private readonly registry: RegistryVersion,
  ) {}

  async create(input: CreateSilenceInput, actor: string, now = new Date()): Promise<Silence> {
    const stream = await this.db.stream.findUnique({ where: { id: input.streamId }, select: { id: true } });
    if (!stream) throw new NotFoundError('stream', input.streamId, 'input.streamId');
    if (input.detectorId != null) {
      const detector = await this.db.detector.findUnique({ where: { id: input.detectorId }, select: { streamId: true } });
      if (!detector) throw new NotFoundError('detector', input.detectorId, 'input.detectorId');
      if (detector.streamId !== stream.id) throw new BadUserInputError('input.detectorId', 'is a detector of another stream');
    }
    if (input.seriesKey != null && (input.seriesKey.length === 0 || input.seriesKey.length > MAX_SERIES_KEY)) {
      throw new BadUserInputError('input.seriesKey', `must be 1 to ${MAX_SERIES_KEY} characters, or null for every series`);
    }
    const reason = input.reason.trim();
    if (reason.length === 0 || reason.length > MAX_REASON) throw new BadUserInputError('input.reason', `must be 1 to ${MAX_REASON} characters: say why, for whoever is on call`);
    const startsAt = input.startsAt ?? now;
    const { endsAt } = input;
    if (endsAt.getTime() <= now.getTime()) throw new BadUserInputError('input.endsAt', 'must be in the future');
    if (endsAt.getTime() <= startsAt.getTime()) throw new BadUserInputError('input.endsAt', 'must be after startsAt');
    if (endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_SECONDS * 1000) {
      throw new BadUserInputError('input.endsAt', `must be at most 7 days after startsAt (${MAX_SILENCE_SECONDS} s): a longer quiet is a detector's mode (SHADOW or DISABLED)`);
    }
    const silence = await this.db.silence.create({
      data: { id: newId('Silence'), streamId: stream.id, detectorId: input.detectorId ?? null, seriesKey: input.seriesKey ?? null, startsAt, endsAt, reason, createdBy: actor },
    });
    await this.registry.bump();
    return silence;
  }

  /** Ends a silence now (one not started yet is ended before it starts); one already over is returned as it is. */
  async end(id: string, actor: string, now = new Date()): Promise<Silence> {
    const silence = await this.db.silence.findUnique({ where: { id } });
    if (!silence) throw new NotFoundError('silence', id, 'id');
    if (silence.endsAt.getTime() <= now.getTime()) return silence;
    // endsAt must stay after startsAt (a CHECK): a silence ended before it began ends one millisecond after its start.
    const endsAt = new Date(Math.max(now.getTime(), silence.startsAt.getTime() + 1));
    const ended = await this.db.silence.update({ where: { id }, data: { endsAt, endedBy: actor } });
    await this.registry.bump();
    return ended;
  }

  /**
   * How many silences are in force now on each stream not archived, 0 included, by stream name
   * (for /metrics: a gauge keeps a series it stops hearing of at its last value, so an ended silence must read 0).
   */
  async activeByStream(now = new Date()): Promise<{ stream: string; active: number }[]> {
    return this.db.$queryRaw<{ stream: string; active: number }[]>`
      SELECT s."name" AS "stream", count(x."id")::int AS "active"
      FROM "Stream" s LEFT JOIN "Silence" x ON x."streamId" = s."id" AND x."startsAt" <= ${now} AND x."endsAt" > ${now}
      WHERE s."archivedAt" IS NULL
      GROUP BY s."name"`;
  }

  /** Silences newest first; by default only those not over yet (holding or to come). */
  list(filter: { streamId?: string | null; includeEnded?: boolean | null }, args: PageArgs, now = new Date()): Promise<Connection<Silence>> {
    return paginate(args, ({ take, afterId }) =>
      this.db.silence.findMany({
        where: {
          ...(filter.streamId ? { streamId: filter.streamId } : {}),
          ...(filter.includeEnded ? {} : { endsAt: { gt: now } }),
          ...(afterId ? { id: { lt: afterId } } : {}),
        },
        orderBy: { id: 'desc' },
        take,
      }),
    );
  }
}
