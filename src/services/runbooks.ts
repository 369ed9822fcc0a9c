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
  trigger: RunbookTriggerInput;
  steps: RunbookStepInput[];
  requiresApproval?: boolean | null;
  /** May the key that requested an execution approve it too? Default false (four eyes). */
  allowSelfApproval?: boolean | null;
  cooldownSeconds?: number | null;
}

export interface RunbookTriggerInput {
  streamId?: string | null;
  detectorId?: string | null;
  minSeverity?: Severity | null;
}

/** updateRunbook: every setting optional; a given one replaces the current one whole (a trigger, the steps). */
export interface UpdateRunbookInput {
  name?: string | null;
  trigger?: RunbookTriggerInput | null;
  steps?: RunbookStepInput[] | null;
  requiresApproval?: boolean | null;
  allowSelfApproval?: boolean | null;
  cooldownSeconds?: number | null;
}

export type { RunbookStep };

function checkName(raw: string, field: string): string {
  const name = raw.trim();
  if (name === '' || name.length > 100) throw new BadUserInputError(field, 'must be 1 to 100 characters');
  return name;
}

function checkCooldown(cooldownSeconds: number, field: string): number {
  if (!Number.isInteger(cooldownSeconds) || cooldownSeconds < 0 || cooldownSeconds > MAX_COOLDOWN_SECONDS) {
    throw new BadUserInputError(field, `must be an integer from 0 to ${MAX_COOLDOWN_SECONDS} (7 days)`);
  }
  return cooldownSeconds;
}

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
    const name = checkName(input.name, 'input.name');
    const trigger = await this.checkTrigger(input.trigger, 'input.trigger');
    const steps = await this.checkSteps(input.steps, 'input.steps');
    const cooldownSeconds = checkCooldown(input.cooldownSeconds ?? 300, 'input.cooldownSeconds');
    if (await this.db.runbook.findUnique({ where: { name }, select: { id: true } })) {
      throw new ConflictError(`a runbook named "${name}" already exists`, 'input.name');
    }
    try {
      return await this.db.runbook.create({
        data: {
          id: newId('Runbook'),
          name,
          ...trigger,
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

  /**
   * Changes the given settings, each checked as at registration; the others
   * stay. Executions already planned keep the steps they were created with
   * (StepExecution rows copy them), so a change applies from the next one.
   */
  async update(id: string, input: UpdateRunbookInput): Promise<Runbook> {
    const runbook = await this.get(id);
    if (!runbook) throw new NotFoundError('runbook', id, 'id');
    const given = Object.entries(input).filter(([, value]) => value != null);
    if (given.length === 0) {
      throw new BadUserInputError('input', 'give at least one of name, trigger, steps, requiresApproval, allowSelfApproval, cooldownSeconds');
    }
    const name = input.name == null ? undefined : checkName(input.name, 'input.name');
    if (name !== undefined && name !== runbook.name && (await this.db.runbook.findUnique({ where: { name }, select: { id: true } }))) {
      throw new ConflictError(`a runbook named "${name}" already exists`, 'input.name');
    }
    const trigger = input.trigger == null ? {} : await this.checkTrigger(input.trigger, 'input.trigger');
    const steps = input.steps == null ? undefined : await this.checkSteps(input.steps, 'input.steps');
    const cooldownSeconds = input.cooldownSeconds == null ? undefined : checkCooldown(input.cooldownSeconds, 'input.cooldownSeconds');
    try {
      return await this.db.runbook.update({
        where: { id },
        data: {
          ...(name !== undefined ? { name } : {}),
          ...trigger,
          ...(steps !== undefined ? { steps: steps as unknown as object } : {}),
          ...(input.requiresApproval != null ? { requiresApproval: input.requiresApproval } : {}),
          ...(input.allowSelfApproval != null ? { allowSelfApproval: input.allowSelfApproval } : {}),
          ...(cooldownSeconds !== undefined ? { cooldownSeconds } : {}),
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`a runbook named "${name}" already exists`, 'input.name');
      throw error;
    }
  }

  private async checkTrigger(trigger: RunbookTriggerInput, field: string) {
    const { streamId, detectorId } = trigger;
    const minSeverity = trigger.minSeverity ?? 'WARNING';
    if (!Object.values(Severity).includes(minSeverity)) {
      throw new BadUserInputError(`${field}.minSeverity`, `must be one of ${Object.values(Severity).join(', ')}`);
    }
    if (!streamId && !detectorId) {
      // A runbook for every incident of every stream is one mistake away from pausing everything.
      throw new BadUserInputError(field, 'name the stream (streamId) or the detector (detectorId) whose incidents run this runbook');
    }
    if (streamId && !(await this.db.stream.findUnique({ where: { id: streamId }, select: { id: true } }))) {
      throw new NotFoundError('stream', streamId, `${field}.streamId`);
    }
    if (detectorId) {
      const detector = await this.db.detector.findUnique({ where: { id: detectorId }, select: { streamId: true } });
      if (!detector) throw new NotFoundError('detector', detectorId, `${field}.detectorId`);
      if (streamId && detector.streamId !== streamId) {
        throw new BadUserInputError(`${field}.detectorId`, 'the detector belongs to another stream than trigger.streamId');
      }
    }
    return { triggerStreamId: streamId ?? null, triggerDetectorId: detectorId ?? null, minSeverity };
  }

  private async checkSteps(input: RunbookStepInput[], field: string): Promise<RunbookStep[]> {
    if (input.length === 0 || input.length > MAX_STEPS) throw new BadUserInputError(field, `must have 1 to ${MAX_STEPS} steps`);
    const steps: RunbookStep[] = [];
    for (const [index, step] of input.entries()) {
      const stepField = `${field}[${index}]`;
      if (!Object.values(RunbookAction).includes(step.action)) {
        throw new BadUserInputError(`${stepField}.action`, `must be one of ${Object.values(RunbookAction).join(', ')}`);
      }
      const params = normalizeStepParams(step.action, step.params ?? {}, `${stepField}.params`);
      if (step.action === 'WEBHOOK') await this.refuseInternalTarget(String(params.url), `${stepField}.params.url`);
      const namedStream = params.streamId;
      if (STREAM_ACTIONS.includes(step.action) && typeof namedStream === 'string') {
        if (!(await this.db.stream.findUnique({ where: { id: namedStream }, select: { id: true } }))) {
          throw new NotFoundError('stream', namedStream, `${stepField}.params.streamId`);
        }
      }
      steps.push({ action: step.action, params });
    }
    return steps;
  }

  /** A webhook aimed inside our network is refused now, when the author is there to hear why. */
  private async refuseInternalTarget(url: string, field: string): Promise<void> {
    const refusal = await targetRefusal(new URL(url), this.outbound);
    if (refusal) throw new BadUserInputError(field, refusal);
  }

  /** Archived runbooks only when asked for. */
  list(includeArchived?: boolean | null): Promise<Runbook[]> {
    return this.db.runbook.findMany({ where: includeArchived ? {} : { archivedAt: null }, orderBy: { id: 'asc' } });
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
