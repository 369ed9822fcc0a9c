import type { RunbookAction } from '../generated/prisma/enums.ts';

/** One step of a runbook as stored in Runbook.steps (JSON): the incident writer copies them into an execution. */
export interface RunbookStep {
  action: RunbookAction;
  params: Record<string, unknown>;
}
