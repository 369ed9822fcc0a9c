import type { Db } from '../store/db.ts';
import type { Anomaly } from '../generated/prisma/client.ts';
import type { AnomalyLabel, Severity } from '../generated/prisma/enums.ts';
import { BadUserInputError, NotFoundError } from '../core/errors.ts';
import { orderedKeyset, paginate, type OrderedPageArgs } from './pagination.ts';
import { severitiesAtLeast } from '../core/severity.ts';

export interface AnomalyFilter {
  streamId?: string | null;
  detectorId?: string | null;
  seriesKey?: string | null;
  minSeverity?: Severity | null;
  includeShadow?: boolean | null;
  since?: Date | null;
}

export function anomalyWhere(filter: AnomalyFilter | null | undefined) {
  return {
    ...(filter?.streamId ? { streamId: filter.streamId } : {}),
    ...(filter?.detectorId ? { detectorId: filter.detectorId } : {}),
    ...(filter?.seriesKey != null ? { seriesKey: filter.seriesKey } : {}),
    ...(filter?.minSeverity ? { severity: { in: severitiesAtLeast(filter.minSeverity) } } : {}),
    ...(filter?.includeShadow ? {} : { shadow: false }),
    ...(filter?.since ? { detectedAt: { gte: filter.since } } : {}),
  };
}

/** Whether a live anomaly passes a subscription's filter (the same rules as anomalyWhere). */
export function anomalyMatches(anomaly: Anomaly, filter: AnomalyFilter | null | undefined): boolean {
  if (filter?.streamId && anomaly.streamId !== filter.streamId) return false;
  if (filter?.detectorId && anomaly.detectorId !== filter.detectorId) return false;
  if (filter?.seriesKey != null && anomaly.seriesKey !== filter.seriesKey) return false;
  if (filter?.minSeverity && !severitiesAtLeast(filter.minSeverity).includes(anomaly.severity)) return false;
  if (!filter?.includeShadow && anomaly.shadow) return false;
  if (filter?.since && anomaly.detectedAt < filter.since) return false;
  return true;
}

export class AnomalyService {
  constructor(private readonly db: Db) {}

  /** Newest first unless `args.orderBy` says OLDEST_FIRST. */
  list(filter: AnomalyFilter | null | undefined, args: OrderedPageArgs) {
    return paginate(args, ({ take, afterId }) => {
      const page = orderedKeyset(afterId, args.orderBy);
      return this.db.anomaly.findMany({ where: { ...anomalyWhere(filter), ...page.where }, orderBy: page.orderBy, take });
    });
  }

  get(id: string): Promise<Anomaly | null> {
    return this.db.anomaly.findUnique({ where: { id } });
  }

  async require(id: string, field = 'id'): Promise<Anomaly> {
    const anomaly = await this.get(id);
    if (!anomaly) throw new NotFoundError('anomaly', id, field);
    return anomaly;
  }

  async label(id: string, label: AnomalyLabel, note: string | null | undefined, actor: string): Promise<Anomaly> {
    await this.require(id);
    if (note != null && note.length > 2000) throw new BadUserInputError('note', 'must be at most 2000 characters');
    return this.db.anomaly.update({ where: { id }, data: { label, labelNote: note ?? null, labelledBy: actor } });
  }
}
