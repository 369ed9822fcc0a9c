import type { Db } from '../store/db.ts';
import { normalizeDetectorParams } from '../detectors/params.ts';
import type { Detector, DetectorVersion } from '../generated/prisma/client.ts';
import { DetectorKind, DetectorMode, Severity } from '../generated/prisma/enums.ts';
import { newId } from '../core/ids.ts';
import { BadUserInputError, ConflictError, NotFoundError, isUniqueViolation } from '../core/errors.ts';
import { DEFAULT_INCIDENT_POLICY, type IncidentPolicy } from '../incidents/policy.ts';
import { idKeyset, paginate, type PageArgs } from './pagination.ts';
import type { RegistryVersion } from '../stream/registry-version.ts';

export interface RegisterDetectorInput {
  streamId: string;
  name: string;
  field: string;
  kind: DetectorKind;
  params?: unknown;
  mode?: DetectorMode | null;
  severity?: Severity | null;
  incidentPolicy?: IncidentPolicyInput | null;
}

export interface UpdateDetectorInput {
  kind?: DetectorKind | null;
  params?: unknown;
  mode?: DetectorMode | null;
  severity?: Severity | null;
  incidentPolicy?: IncidentPolicyInput | null;
}

export interface IncidentPolicyInput {
  groupBy?: string | null;
  correlationWindowSeconds?: number | null;
  flapWindowSeconds?: number | null;
  quietPeriodSeconds?: number | null;
}

const MAX_POLICY_SECONDS = 30 * 24 * 3600;

/** Incident policy columns from input, each checked; absent settings keep `current`. */
function policyColumns(input: IncidentPolicyInput | null | undefined, current: IncidentPolicy, field: string) {
  const policy = { ...current };
  if (!input) return policy;
  if (input.groupBy != null) {
    if (input.groupBy !== 'DETECTOR' && input.groupBy !== 'SERIES') {
      throw new BadUserInputError(`${field}.groupBy`, 'must be DETECTOR (one incident per detector) or SERIES (one per series)');
    }
    policy.groupBy = input.groupBy;
  }
  for (const key of ['correlationWindowSeconds', 'flapWindowSeconds', 'quietPeriodSeconds'] as const) {
    const value = input[key];
    if (value == null) continue;
    if (!Number.isInteger(value) || value < 1 || value > MAX_POLICY_SECONDS) {
      throw new BadUserInputError(`${field}.${key}`, `must be an integer from 1 to ${MAX_POLICY_SECONDS} (30 days)`);
    }
    policy[key] = value;
  }
  return policy;
}

function policyData(policy: IncidentPolicy) {
  return {
    incidentGroupBy: policy.groupBy,
    correlationWindowSeconds: policy.correlationWindowSeconds,
    flapWindowSeconds: policy.flapWindowSeconds,
    quietPeriodSeconds: policy.quietPeriodSeconds,
  };
}

export function incidentPolicyOf(detector: Detector): IncidentPolicy {
  return {
    groupBy: detector.incidentGroupBy === 'SERIES' ? 'SERIES' : 'DETECTOR',
    correlationWindowSeconds: detector.correlationWindowSeconds,
    flapWindowSeconds: detector.flapWindowSeconds,
    quietPeriodSeconds: detector.quietPeriodSeconds,
  };
}

export interface DetectorStats {
  anomalies: number;
  truePositives: number;
  falsePositives: number;
  precision: number | null;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

/**
 * Detectors a user registered: an SLA's companion detector (src/services/slas.ts)
 * records the SLA's breaches but is Vigil's own, so lists leave it out; it is
 * still reachable by id, from its anomalies and their lineage.
 */
export function userDetectors(includeArchived: boolean | null | undefined) {
  return { sla: { is: null }, ...(includeArchived ? {} : { archivedAt: null }) };
}

function assertEnum<T extends string>(values: Record<string, T>, value: unknown, field: string): T {
  if (!Object.values(values).includes(value as T)) {
    throw new BadUserInputError(field, `must be one of ${Object.values(values).join(', ')}`);
  }
  return value as T;
}

/**
 * Detectors are versioned: every change writes a new immutable
 * DetectorVersion, and anomalies record the version that produced them.
 */
export class DetectorService {
  constructor(
    private readonly db: Db,
    private readonly registry: RegistryVersion,
  ) {}

  async register(input: RegisterDetectorInput, actor: string): Promise<Detector> {
    const stream = await this.db.stream.findUnique({ where: { id: input.streamId } });
    if (!stream) throw new NotFoundError('stream', input.streamId, 'input.streamId');
    if (!NAME_PATTERN.test(input.name)) {
      throw new BadUserInputError('input.name', 'must be 1 to 100 letters, digits, spaces, ".", "_" or "-"');
    }
    if (!stream.valueFields.includes(input.field)) {
      throw new BadUserInputError(
        'input.field',
        `"${input.field}" is not a value field of stream "${stream.name}" (value fields: ${stream.valueFields.join(', ')})`,
      );
    }
    const kind = assertEnum(DetectorKind, input.kind, 'input.kind');
    const mode = assertEnum(DetectorMode, input.mode ?? 'ACTIVE', 'input.mode');
    const severity = assertEnum(Severity, input.severity ?? 'WARNING', 'input.severity');
    const params = normalizeDetectorParams(kind, input.params ?? {}, 'input.params');
    const policy = policyColumns(input.incidentPolicy, DEFAULT_INCIDENT_POLICY, 'input.incidentPolicy');
    const existing = await this.db.detector.findUnique({ where: { streamId_name: { streamId: stream.id, name: input.name } } });
    if (existing) throw new ConflictError(`stream "${stream.name}" already has a detector named "${input.name}"`, 'input.name');
    try {
      const detector = await this.db.detector.create({
        data: {
          id: newId('Detector'),
          streamId: stream.id,
          name: input.name,
          field: input.field,
          currentVersion: 1,
          ...policyData(policy),
          versions: { create: { version: 1, kind, params: params as object, mode, severity, createdBy: actor } },
        },
      });
      await this.registry.bump();
      return detector;
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`stream "${stream.name}" already has a detector named "${input.name}"`, 'input.name');
      throw error;
    }
  }

  async update(id: string, input: UpdateDetectorInput, actor: string): Promise<Detector> {
    const detector = await this.get(id, 'id');
    const settingsChange = input.kind != null || input.params != null || input.mode != null || input.severity != null;
    if (!settingsChange && input.incidentPolicy == null) {
      throw new BadUserInputError('input', 'give at least one of kind, params, mode, severity, incidentPolicy');
    }
    if (input.incidentPolicy != null) {
      // Grouping is not part of what detects: it changes without a new version (and without a new baseline).
      const policy = policyColumns(input.incidentPolicy, incidentPolicyOf(detector), 'input.incidentPolicy');
      const updated = await this.db.detector.update({ where: { id }, data: policyData(policy) });
      if (!settingsChange) {
        await this.registry.bump();
        return updated;
      }
    }
    const current = await this.currentVersion(detector);
    const kind = input.kind == null ? current.kind : assertEnum(DetectorKind, input.kind, 'input.kind');
    // Same kind: given params change only the settings they name. A new kind starts from its own
    // defaults plus what is given: the old kind's settings mean nothing to it.
    const given = input.params ?? {};
    const rawParams =
      kind === current.kind && given !== null && typeof given === 'object' && !Array.isArray(given)
        ? { ...(current.params as Record<string, unknown>), ...(given as Record<string, unknown>) }
        : given;
    const params = normalizeDetectorParams(kind, rawParams, 'input.params');
    return this.appendVersion(detector, {
      kind,
      params,
      mode: input.mode == null ? current.mode : assertEnum(DetectorMode, input.mode, 'input.mode'),
      severity: input.severity == null ? current.severity : assertEnum(Severity, input.severity, 'input.severity'),
      actor,
    });
  }

  async rollback(id: string, version: number, actor: string): Promise<Detector> {
    const detector = await this.get(id, 'id');
    const target = await this.db.detectorVersion.findUnique({ where: { detectorId_version: { detectorId: id, version } } });
    if (!target) throw new NotFoundError(`version of detector ${id}`, String(version), 'version');
    return this.appendVersion(detector, { ...target, params: target.params as Record<string, unknown>, actor });
  }

  private async appendVersion(
    detector: Detector,
    settings: { kind: DetectorKind; params: Record<string, unknown>; mode: DetectorMode; severity: Severity; actor: string },
  ): Promise<Detector> {
    const updated = await this.db.$transaction(async (tx) => {
      const next = detector.currentVersion + 1;
      const bumped = await tx.detector.updateMany({
        where: { id: detector.id, currentVersion: detector.currentVersion },
        data: { currentVersion: next, drifting: false },
      });
      if (bumped.count !== 1) throw new ConflictError('the detector changed concurrently; read it again and retry', 'id');
      // The new version learns afresh: no series of it is drifting yet.
      await tx.detectorDrift.deleteMany({ where: { detectorId: detector.id } });
      await tx.detectorVersion.create({
        data: {
          detectorId: detector.id,
          version: next,
          kind: settings.kind,
          params: settings.params as object,
          mode: settings.mode,
          severity: settings.severity,
          createdBy: settings.actor,
        },
      });
      return tx.detector.findUniqueOrThrow({ where: { id: detector.id } });
    });
    await this.registry.bump();
    return updated;
  }

  find(id: string): Promise<Detector | null> {
    return this.db.detector.findUnique({ where: { id } });
  }

  async get(id: string, field?: string): Promise<Detector> {
    const detector = await this.db.detector.findUnique({ where: { id } });
    if (!detector) throw new NotFoundError('detector', id, field);
    return detector;
  }

  currentVersion(detector: Detector): Promise<DetectorVersion> {
    return this.db.detectorVersion.findUniqueOrThrow({
      where: { detectorId_version: { detectorId: detector.id, version: detector.currentVersion } },
    });
  }

  async version(detectorId: string, version: number): Promise<DetectorVersion> {
    return this.db.detectorVersion.findUniqueOrThrow({ where: { detectorId_version: { detectorId, version } } });
  }

  /** The user's detectors: SLA companions are internal, archived ones only when asked for. */
  list(streamId: string | null | undefined, args: PageArgs & { includeArchived?: boolean | null }) {
    return paginate(args, ({ take, afterId }) =>
      this.db.detector.findMany({
        where: { ...(streamId ? { streamId } : {}), ...userDetectors(args.includeArchived), ...idKeyset(afterId) },
        orderBy: { id: 'asc' },
        take,
      }),
    );
  }
}
