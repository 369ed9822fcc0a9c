import type { Db } from '../db.ts';
import type { Sla } from '../generated/prisma/client.ts';
import { Severity, SlaObjective } from '../generated/prisma/enums.ts';
import { newId } from '../ids.ts';
import { BadUserInputError, ConflictError, NotFoundError, isUniqueViolation } from './errors.ts';

export interface RegisterSlaInput {
  streamId: string;
  name: string;
  objective: SlaObjective;
  threshold: number;
  windowSeconds: number;
  severity?: Severity | null;
}

/** Objectives measured as a share of events, whose threshold is a fraction. */
const FRACTION_OBJECTIVES: readonly SlaObjective[] = ['ERROR_RATE', 'COMPLETENESS', 'ANOMALY_RATE'];
const MAX_WINDOW_SECONDS = 30 * 24 * 3600;

export class SlaService {
  constructor(private readonly db: Db) {}

  async register(input: RegisterSlaInput): Promise<Sla> {
    const stream = await this.db.stream.findUnique({ where: { id: input.streamId } });
    if (!stream) throw new NotFoundError('stream', input.streamId, 'input.streamId');
    const name = input.name.trim();
    if (name === '' || name.length > 100) throw new BadUserInputError('input.name', 'must be 1 to 100 characters');
    if (!Object.values(SlaObjective).includes(input.objective)) {
      throw new BadUserInputError('input.objective', `must be one of ${Object.values(SlaObjective).join(', ')}`);
    }
    if (!Number.isFinite(input.threshold) || input.threshold < 0) {
      throw new BadUserInputError('input.threshold', 'must be a number >= 0');
    }
    if (FRACTION_OBJECTIVES.includes(input.objective) && input.threshold > 1) {
      throw new BadUserInputError('input.threshold', `${input.objective} is a fraction of events: give a threshold from 0 to 1`);
    }
    if (!Number.isInteger(input.windowSeconds) || input.windowSeconds < 1 || input.windowSeconds > MAX_WINDOW_SECONDS) {
      throw new BadUserInputError('input.windowSeconds', `must be an integer from 1 to ${MAX_WINDOW_SECONDS} (30 days)`);
    }
    const severity = input.severity ?? 'WARNING';
    if (!Object.values(Severity).includes(severity)) {
      throw new BadUserInputError('input.severity', `must be one of ${Object.values(Severity).join(', ')}`);
    }
    try {
      return await this.db.sla.create({
        data: {
          id: newId('Sla'),
          streamId: stream.id,
          name,
          objective: input.objective,
          threshold: input.threshold,
          windowSeconds: input.windowSeconds,
          severity,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`stream "${stream.name}" already has an SLA named "${name}"`, 'input.name');
      throw error;
    }
  }

  list(streamId?: string | null): Promise<Sla[]> {
    return this.db.sla.findMany({ where: streamId ? { streamId } : {}, orderBy: { id: 'asc' } });
  }

  async get(id: string): Promise<Sla | null> {
    return this.db.sla.findUnique({ where: { id } });
  }
}
