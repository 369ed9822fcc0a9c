import type { Db } from '../store/db.ts';
import type { Runbook } from '../generated/prisma/client.ts';
import { RunbookAction, Severity } from '../generated/prisma/enums.ts';
import { newId } from '../core/ids.ts';
import { targetRefusal, type OutboundPolicy } from '../outbound/target-guard.ts';
import { normalizeStepParams } from './step-params.ts';
import { BadUserInputError, ConflictError, NotFoundError, isUniqueViolation } from '../core/errors.ts';
import { redactUrl } from '../core/redact-url.ts';
import type { RunbookStep } from '../incidents/runbook-step.ts';

export interface RunbookStepInput {
  action: RunbookAction;
  params?: unknown;
}

export interface RegisterRunbookInput {
  name: string;
  trigger: { streamId?: string | null; detectorId?: string | null; minSeverity?: Severity | null };
  steps: RunbookStepInput[];
  requiresApproval?: boolean | null;
  /** May the key that requested an execution approve it too? Default false (four eyes). */
  allowSelfApproval?: boolean | null;
  cooldownSeconds?: number | null;
}

export type { RunbookStep };

const MAX_STEPS = 20;
const MAX_COOLDOWN_SECONDS = 7 * 24 * 3600;
/** Steps whose params may name a stream, which must exist when the runbook is registered. */
const STREAM_ACTIONS: readonly RunbookAction[] = ['REPLAY', 'PAUSE_STREAM', 'RESUME_STREAM'];

export class RunbookService {
  constructor(
    private readonly db: Db,
    private readonly outbound: OutboundPolicy,
  ) {}

  async register(input: RegisterRunbookInput): Promise<Runbook> {
    const name = input.name.trim();
    if (name === '' || name.length > 100) throw new BadUserInputError('input.name', 'must be 1 to 100 characters');
    const { streamId, detectorId } = input.trigger;
    const minSeverity = input.trigger.minSeverity ?? 'WARNING';
    if (!Object.values(Severity).includes(minSeverity)) {
      throw new BadUserInputError('input.trigger.minSeverity', `must be one of ${Object.values(Severity).join(', ')}`);
    }
    if (!streamId && !detectorId) {
      // A runbook for every incident of every stream is one mistake away from pausing everything.
      throw new BadUserInputError('input.trigger', 'name the stream (streamId) or the detector (detectorId) whose incidents run this runbook');
    }
    if (streamId && !(await this.db.stream.findUnique({ where: { id: streamId }, select: { id: true } }))) {
      throw new NotFoundError('stream', streamId, 'input.trigger.streamId');
    }
    if (detectorId) {
      const detector = await this.db.detector.findUnique({ where: { id: detectorId }, select: { streamId: true } });
      if (!detector) throw new NotFoundError('detector', detectorId, 'input.trigger.detectorId');
      if (streamId && detector.streamId !== streamId) {
        throw new BadUserInputError('input.trigger.detectorId', 'the detector belongs to another stream than trigger.streamId');
      }
    }
    if (input.steps.length === 0 || input.steps.length > MAX_STEPS) {
      throw new BadUserInputError('input.steps', `must have 1 to ${MAX_STEPS} steps`);
    }
    const steps: RunbookStep[] = [];
    for (const [index, step] of input.steps.entries()) {
      const field = `input.steps[${index}]`;
      if (!Object.values(RunbookAction).includes(step.action)) {
        throw new BadUserInputError(`${field}.action`, `must be one of ${Object.values(RunbookAction).join(', ')}`);
      }
      const params = normalizeStepParams(step.action, step.params ?? {}, `${field}.params`);
      if (step.action === 'WEBHOOK') await this.refuseInternalTarget(String(params.url), `${field}.params.url`);
      const namedStream = params.streamId;
      if (STREAM_ACTIONS.includes(step.action) && typeof namedStream === 'string') {
        if (!(await this.db.stream.findUnique({ where: { id: namedStream }, select: { id: true } }))) {
          throw new NotFoundError('stream', namedStream, `${field}.params.streamId`);
        }
      }
      steps.push({ action: step.action, params });
    }
    const cooldownSeconds = input.cooldownSeconds ?? 300;
    if (!Number.isInteger(cooldownSeconds) || cooldownSeconds < 0 || cooldownSeconds > MAX_COOLDOWN_SECONDS) {
      throw new BadUserInputError('input.cooldownSeconds', `must be an integer from 0 to ${MAX_COOLDOWN_SECONDS} (7 days)`);
    }
    if (await this.db.runbook.findUnique({ where: { name }, select: { id: true } })) {
      throw new ConflictError(`a runbook named "${name}" already exists`, 'input.name');
    }
    try {
      return await this.db.runbook.create({
        data: {
          id: newId('Runbook'),
          name,
          triggerStreamId: streamId ?? null,
          triggerDetectorId: detectorId ?? null,
          minSeverity,
          steps: steps as unknown as object,
          requiresApproval: input.requiresApproval ?? false,
          allowSelfApproval: input.allowSelfApproval ?? false,
          cooldownSeconds,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`a runbook named "${name}" already exists`, 'input.name');
      throw error;
    }
  }

  /** A webhook aimed inside our network is refused now, when the author is there to hear why. */
  private async refuseInternalTarget(url: string, field: string): Promise<void> {
    const refusal = await targetRefusal(new URL(url), this.outbound);
    if (refusal) throw new BadUserInputError(field, refusal);
  }

  list(): Promise<Runbook[]> {
    return this.db.runbook.findMany({ orderBy: { id: 'asc' } });
  }

  get(id: string): Promise<Runbook | null> {
    return this.db.runbook.findUnique({ where: { id } });
  }
}

export function runbookSteps(runbook: Runbook): RunbookStep[] {
  return runbook.steps as unknown as RunbookStep[];
}

/** Step settings that hold credentials: stored for the runner, never shown through the API. */
const SECRET_PARAMS = ['secret', 'headers'] as const;

/**
 * A step's params as readers see them: credentials replaced by a marker, so a
 * VIEWER cannot lift a webhook's signing secret, nor a token in its URL.
 */
export function publicStepParams(params: Record<string, unknown>): Record<string, unknown> {
  const shown = { ...params };
  if (typeof shown.url === 'string') shown.url = redactUrl(shown.url);
  for (const key of SECRET_PARAMS) {
    const value = shown[key];
    if (value === undefined || value === null) continue;
    shown[key] =
      typeof value === 'object'
        ? Object.fromEntries(Object.keys(value as Record<string, unknown>).map((name) => [name, '[redacted]']))
        : '[redacted]';
  }
  return shown;
}
