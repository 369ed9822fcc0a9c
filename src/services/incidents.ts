import type { Db } from '../store/db.ts';
import type { Incident, IncidentEvent } from '../generated/prisma/client.ts';
import type { IncidentStatus, Severity } from '../generated/prisma/enums.ts';
import { CHANNELS, type PubSub } from '../pubsub/pubsub.ts';
import { afterCommit } from '../store/ambient-transaction.ts';
import { BadUserInputError, NotFoundError } from '../core/errors.ts';
import { idKeyset, orderedKeyset, paginate, type OrderedPageArgs, type PageArgs } from './pagination.ts';
import { severitiesAtLeast } from '../core/severity.ts';

export interface IncidentFilter {
  streamId?: string | null;
  status?: IncidentStatus[] | null;
  minSeverity?: Severity | null;
}

export function incidentMatches(incident: Incident, filter: IncidentFilter | null | undefined): boolean {
  if (filter?.streamId && incident.streamId !== filter.streamId) return false;
  if (filter?.status?.length && !filter.status.includes(incident.status)) return false;
  if (filter?.minSeverity && !severitiesAtLeast(filter.minSeverity).includes(incident.severity)) return false;
  return true;
}

function checkNote(note: string | null | undefined): void {
  if (note != null && note.length > 2000) throw new BadUserInputError('note', 'must be at most 2000 characters');
}

export class IncidentService {
  constructor(
    private readonly db: Db,
    private readonly pubsub: PubSub,
  ) {}

  /** Newest first unless `args.orderBy` says OLDEST_FIRST. */
  list(filter: IncidentFilter | null | undefined, args: OrderedPageArgs) {
    return paginate(args, ({ take, afterId }) => {
      const page = orderedKeyset(afterId, args.orderBy);
      return this.db.incident.findMany({
        where: {
          ...(filter?.streamId ? { streamId: filter.streamId } : {}),
          ...(filter?.status?.length ? { status: { in: filter.status } } : {}),
          ...(filter?.minSeverity ? { severity: { in: severitiesAtLeast(filter.minSeverity) } } : {}),
          ...page.where,
        },
        orderBy: page.orderBy,
        take,
      });
    });
  }

  get(id: string): Promise<Incident | null> {
    return this.db.incident.findUnique({ where: { id } });
  }

  async require(id: string, field = 'id'): Promise<Incident> {
    const incident = await this.get(id);
    if (!incident) throw new NotFoundError('incident', id, field);
    return incident;
  }

  timeline(incidentId: string): Promise<IncidentEvent[]> {
    return this.db.incidentEvent.findMany({ where: { incidentId }, orderBy: { id: 'asc' } });
  }

  anomalies(incidentId: string, args: PageArgs) {
    return paginate(args, ({ take, afterId }) =>
      this.db.anomaly.findMany({ where: { incidentId, ...idKeyset(afterId) }, orderBy: { id: 'asc' }, take }),
    );
  }

  async acknowledge(id: string, note: string | null | undefined, actor: string): Promise<Incident> {
    checkNote(note);
    const incident = await this.require(id);
    if (incident.status !== 'OPEN') {
      throw new BadUserInputError('id', `the incident is ${incident.status}; only an OPEN incident can be acknowledged`);
    }
    const updated = await this.db.$transaction(async (tx) => {
      await tx.incidentEvent.create({
        data: { incidentId: id, kind: 'ACKNOWLEDGED', message: note ? `acknowledged: ${note}` : 'acknowledged', actor },
      });
      return tx.incident.update({ where: { id }, data: { status: 'ACKNOWLEDGED', acknowledgedAt: new Date() } });
    });
    await this.announce(id);
    return updated;
  }

  async resolve(id: string, note: string | null | undefined, actor: string): Promise<Incident> {
    checkNote(note);
    const incident = await this.require(id);
    if (incident.status === 'RESOLVED') throw new BadUserInputError('id', 'the incident is already RESOLVED');
    const updated = await this.db.$transaction(async (tx) => {
      await tx.incidentEvent.create({
        data: { incidentId: id, kind: 'RESOLVED', message: note ? `resolved: ${note}` : 'resolved by hand', actor },
      });
      return tx.incident.update({ where: { id }, data: { status: 'RESOLVED', resolvedAt: new Date() } });
    });
    await this.announce(id);
    return updated;
  }

  /**
   * After commit, so subscribers hear of the change at once. A failed publish
   * does not fail the mutation: the change is committed, and subscribers read
   * it at their next catch-up anyway (src/schema/resumable.ts).
   */
  private async announce(id: string): Promise<void> {
    await afterCommit(() => this.pubsub.publish(CHANNELS.incidents, { id }).catch(() => undefined));
  }
}
