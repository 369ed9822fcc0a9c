import type { Db } from '../store/db.ts';
import type { Detector, Prisma, Sla, Stream } from '../generated/prisma/client.ts';
import { Severity, SlaObjective } from '../generated/prisma/enums.ts';
import { newId } from '../core/ids.ts';
import { BadUserInputError, ConflictError, NotFoundError, isUniqueViolation } from '../core/errors.ts';

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

/**
 * The name of an SLA's companion detector. ":" is outside what
 * registerDetector accepts, so no detector registered by hand takes it.
 */
export function companionName(slaName: string): string {
  return `sla:${slaName}`;
}

/**
 * An SLA's companion detector: its breaches are recorded as this detector's
 * anomalies, so they have the lineage, incidents and runbooks of any other.
 * THRESHOLD with no bound, mode DISABLED: workers never run it (and it cannot
 * be switched on without giving it a bound). Its incident policy is the SLA's.
 */
function companionData(stream: Pick<Stream, 'id' | 'valueFields'>, name: string, severity: Severity, actor: string) {
  return {
    id: newId('Detector'),
    streamId: stream.id,
    name,
    field: stream.valueFields[0] ?? '',
    currentVersion: 1,
    versions: {
      create: { version: 1, kind: 'THRESHOLD' as const, params: { min: null, max: null }, mode: 'DISABLED' as const, severity, createdBy: actor },
    },
  } satisfies Prisma.DetectorUncheckedCreateInput;
}

export class SlaService {
  constructor(private readonly db: Db) {}

  async register(input: RegisterSlaInput, actor = 'vigil'): Promise<Sla> {
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
      return await this.db.$transaction(async (tx) => {
        const detector = await tx.detector.create({ data: companionData(stream, companionName(name), severity, actor) });
        return tx.sla.create({
          data: {
            id: newId('Sla'),
            streamId: stream.id,
            name,
            objective: input.objective,
            threshold: input.threshold,
            windowSeconds: input.windowSeconds,
            severity,
            detectorId: detector.id,
          },
        });
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

  /** The SLA's companion detector, created now for an SLA that has none (registered before SLAs had one). */
  async companion(slaId: string): Promise<Detector> {
    return this.db.$transaction(async (tx) => {
      // Two evaluators may get here at once: the SLA row decides which one creates it.
      const [locked] = await tx.$queryRaw<{ detectorId: string | null }[]>`SELECT "detectorId" FROM "Sla" WHERE "id" = ${slaId} FOR UPDATE`;
      if (!locked) throw new NotFoundError('SLA', slaId);
      if (locked.detectorId) return tx.detector.findUniqueOrThrow({ where: { id: locked.detectorId } });
      const sla = await tx.sla.findUniqueOrThrow({ where: { id: slaId }, include: { stream: true } });
      const name = companionName(sla.name);
      const taken = await tx.detector.findUnique({ where: { streamId_name: { streamId: sla.streamId, name } } });
      const detector = await tx.detector.create({
        data: companionData(sla.stream, taken ? `${name} (${sla.id})` : name, sla.severity, 'vigil'),
      });
      await tx.sla.update({ where: { id: slaId }, data: { detectorId: detector.id } });
      return detector;
    });
  }
}
