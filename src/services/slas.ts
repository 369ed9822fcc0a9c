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

/** updateSla: every setting optional; the objective is what the SLA is, so it cannot change (register another). */
export interface UpdateSlaInput {
  name?: string | null;
  threshold?: number | null;
  windowSeconds?: number | null;
  severity?: Severity | null;
}

function checkSlaName(raw: string, field: string): string {
  const name = raw.trim();
  if (name === '' || name.length > 100) throw new BadUserInputError(field, 'must be 1 to 100 characters');
  return name;
}

function checkThreshold(objective: SlaObjective, threshold: number, field: string): void {
  if (!Number.isFinite(threshold) || threshold < 0) throw new BadUserInputError(field, 'must be a number >= 0');
  if (FRACTION_OBJECTIVES.includes(objective) && threshold > 1) {
    throw new BadUserInputError(field, `${objective} is a fraction of events: give a threshold from 0 to 1`);
  }
}

function checkWindow(windowSeconds: number, field: string): void {
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
    throw new BadUserInputError(field, `must be an integer from 1 to ${MAX_WINDOW_SECONDS} (30 days)`);
  }
}

function checkSeverity(severity: Severity, field: string): Severity {
  if (!Object.values(Severity).includes(severity)) throw new BadUserInputError(field, `must be one of ${Object.values(Severity).join(', ')}`);
  return severity;
}

export class SlaService {
  constructor(private readonly db: Db) {}

  async register(input: RegisterSlaInput, actor = 'vigil'): Promise<Sla> {
    const stream = await this.db.stream.findUnique({ where: { id: input.streamId } });
    if (!stream) throw new NotFoundError('stream', input.streamId, 'input.streamId');
    const name = checkSlaName(input.name, 'input.name');
    if (!Object.values(SlaObjective).includes(input.objective)) {
      throw new BadUserInputError('input.objective', `must be one of ${Object.values(SlaObjective).join(', ')}`);
    }
    checkThreshold(input.objective, input.threshold, 'input.threshold');
    checkWindow(input.windowSeconds, 'input.windowSeconds');
    const severity = checkSeverity(input.severity ?? 'WARNING', 'input.severity');
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

  /**
   * Changes the given settings; the next evaluation judges by them. A new
   * name renames the companion detector with it, so lineage reads the same.
   */
  async update(id: string, input: UpdateSlaInput): Promise<Sla> {
    const sla = await this.db.sla.findUnique({ where: { id } });
    if (!sla) throw new NotFoundError('SLA', id, 'id');
    if (input.name == null && input.threshold == null && input.windowSeconds == null && input.severity == null) {
      throw new BadUserInputError('input', 'give at least one of name, threshold, windowSeconds, severity');
    }
    const name = input.name == null ? undefined : checkSlaName(input.name, 'input.name');
    if (input.threshold != null) checkThreshold(sla.objective, input.threshold, 'input.threshold');
    if (input.windowSeconds != null) checkWindow(input.windowSeconds, 'input.windowSeconds');
    const severity = input.severity == null ? undefined : checkSeverity(input.severity, 'input.severity');
    try {
      return await this.db.$transaction(async (tx) => {
        if (name !== undefined && name !== sla.name && sla.detectorId) {
          await tx.detector.update({ where: { id: sla.detectorId }, data: { name: companionName(name) } });
        }
        return tx.sla.update({
          where: { id },
          data: {
            ...(name !== undefined ? { name } : {}),
            ...(input.threshold != null ? { threshold: input.threshold } : {}),
            ...(input.windowSeconds != null ? { windowSeconds: input.windowSeconds } : {}),
            ...(severity !== undefined ? { severity } : {}),
          },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`the stream already has an SLA named "${name}"`, 'input.name');
      throw error;
    }
  }

  /** Archived SLAs only when asked for. */
  list(streamId?: string | null, includeArchived?: boolean | null): Promise<Sla[]> {
    return this.db.sla.findMany({
      where: { ...(streamId ? { streamId } : {}), ...(includeArchived ? {} : { archivedAt: null }) },
      orderBy: { id: 'asc' },
    });
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
