import type { Redis } from 'ioredis';
import { BadUserInputError, NotFoundError } from '../core/errors.ts';
import type { Db } from '../store/db.ts';
import { readSeriesPoints, SERIES_POINTS_KEPT } from '../stream/series-points.ts';
import type { SeriesPoint } from '../stream/series-trail.ts';

export type { SeriesPoint } from '../stream/series-trail.ts';
export { SERIES_POINTS_KEPT } from '../stream/series-points.ts';

/**
 * Recent scored points of a detector's series, as the stream workers left
 * them in Redis (src/stream/series-points.ts): best effort, the last
 * SERIES_POINTS_KEPT at about one a second, for about a day.
 */
export class SeriesService {
  constructor(
    private readonly db: Db,
    private readonly redis: Pick<Redis, 'zrange'>,
  ) {}

  /** The newest `last` points of the series, oldest first; `seriesKey` null is the series of events without a key. */
  async points(detectorId: string, seriesKey: string | null, last: number): Promise<SeriesPoint[]> {
    if (!Number.isInteger(last) || last < 1 || last > SERIES_POINTS_KEPT) {
      throw new BadUserInputError('last', `must be from 1 to ${SERIES_POINTS_KEPT} (points kept per series); got ${last}`);
    }
    const detector = await this.db.detector.findUnique({ where: { id: detectorId }, select: { id: true } });
    if (!detector) throw new NotFoundError('detector', detectorId, 'detectorId');
    return readSeriesPoints(this.redis, detectorId, seriesKey, last);
  }
}
