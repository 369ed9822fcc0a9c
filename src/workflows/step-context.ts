import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Incident, RunbookExecution, StepExecution } from '../generated/prisma/client.ts';
import type { Services } from '../services/container.ts';

/** What a runbook step's action gets to work with. */
export interface StepContext {
  execution: RunbookExecution;
  runbookName: string;
  incident: Incident | null;
  step: StepExecution;
  params: Record<string, unknown>;
  /** 1 for the first try; a try whose worker died before it ended is tried again under the same number. */
  attempt: number;
  /** How many times a worker began this step, this time included: tells apart deliveries of one attempt. */
  delivery: number;
  services: Services;
  config: Config;
  log: Logger;
}

/** Runs one step; returns its output (JSON) or throws. A StepFailure is final: no retry helps. */
export type StepAction = (context: StepContext) => Promise<unknown>;

export class StepFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepFailure';
  }
}
