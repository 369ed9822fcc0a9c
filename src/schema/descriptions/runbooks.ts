import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

const STEP_DOC = 'Each action\'s params, their ranges and defaults: docs/api.md, "Runbook steps".';

export const RUNBOOK_DESCRIPTIONS: Descriptions = {
  Runbook:
    'Steps to run when an incident matching its trigger opens or escalates (or by hand: `triggerRunbook`), optionally after a person approves.',
  'Runbook.name': 'Unique name, 1 to 100 characters.',
  'Runbook.trigger': 'Which incidents run it.',
  'Runbook.steps': 'The steps, run in order; a failed step (after its retries) fails the execution and skips the rest.',
  'Runbook.requiresApproval': 'When true, each execution waits in PENDING_APPROVAL until an OPERATOR or ADMIN approves it (`approveExecution`).',
  'Runbook.cooldownSeconds':
    'Seconds after an execution during which incidents of the same stream do not run it again (a RUNBOOK_SKIPPED entry says so); runs by hand ignore it.',
  'Runbook.executions': 'Its executions, a page at a time.',
  ...pageArgs('Runbook.executions'),

  RunbookTrigger: 'Which incidents run a runbook: those of the stream and/or detector named, at or above minSeverity.',
  'RunbookTrigger.stream': 'Only incidents of this stream; null: any stream.',
  'RunbookTrigger.detector': 'Only incidents of this detector; null: any detector.',
  'RunbookTrigger.minSeverity': 'Only incidents of this severity or higher, when opened or escalated.',

  RunbookStep: `One step of a runbook. ${STEP_DOC}`,
  'RunbookStep.action': 'What the step does.',

  RunbookAction: `What a runbook step does. ${STEP_DOC}`,
  'RunbookAction.PAUSE_STREAM': "Pause a stream (params.streamId, or the incident's): workers stop consuming it.",
  'RunbookAction.RESUME_STREAM': "Resume a paused stream (params.streamId, or the incident's).",

  ExecutionStatus: 'Where a runbook execution, or one of its steps, stands.',
  'ExecutionStatus.PENDING_APPROVAL': 'Waits for an OPERATOR or ADMIN to approve it (runbooks with requiresApproval).',
  'ExecutionStatus.QUEUED': 'Approved or needing no approval; waits for a worker (a step: waits for the steps before it).',
  'ExecutionStatus.RUNNING': 'A worker is running it.',
  'ExecutionStatus.SUCCEEDED': 'Every step succeeded (a step: it succeeded).',
  'ExecutionStatus.FAILED': 'A step failed after its last attempt; the steps after it did not run.',
  'ExecutionStatus.CANCELLED': 'Cancelled by a person (`cancelExecution`); steps not yet started never run.',

  RunbookExecution: 'One run of a runbook: its status, each step\'s attempts, who asked and who approved.',
  'RunbookExecution.runbook': 'The runbook run.',
  'RunbookExecution.incident': 'The incident it was run for; null for a run by hand without one.',
  'RunbookExecution.status': 'Where it stands.',
  'RunbookExecution.steps': 'Its steps, in order.',
  'RunbookExecution.requestedBy': 'Who asked for it: an API key\'s name (by hand), or "vigil (automatic)" when an incident triggered it.',
  'RunbookExecution.approvedBy': 'The name of the API key that approved it; null when no approval was needed or it is pending.',
  'RunbookExecution.createdAt': 'When it was requested.',
  'RunbookExecution.finishedAt': 'When it ended (succeeded, failed or was cancelled); null while it has not.',

  StepExecution: 'One step of a runbook execution.',
  'StepExecution.index': 'Position of the step in the runbook, from 0.',
  'StepExecution.action': 'What the step does.',
  'StepExecution.status': 'Where the step stands.',
  'StepExecution.attempts': 'Attempts made so far (at most the step\'s params.maxAttempts); retries back off.',
  'StepExecution.startedAt': 'When its first attempt started; null until then.',
  'StepExecution.finishedAt': 'When it ended; null until then.',

  RunbookTriggerInput: 'Which incidents run the runbook: name a stream, a detector or both (neither: BAD_USER_INPUT on input.trigger).',
  'RunbookTriggerInput.streamId': 'Only incidents of this stream. NOT_FOUND when unknown.',
  'RunbookTriggerInput.detectorId': 'Only incidents of this detector (of streamId, when both are given). NOT_FOUND when unknown.',
  'RunbookTriggerInput.minSeverity': 'Only incidents of this severity or higher (default WARNING).',

  RunbookStepInput: `One step: an action and its params, checked when the runbook is registered. ${STEP_DOC}`,
  'RunbookStepInput.action': 'What the step does.',

  RegisterRunbookInput: 'A runbook to register (`registerRunbook`).',
  'RegisterRunbookInput.name': 'Unique name, 1 to 100 characters (CONFLICT when taken).',
  'RegisterRunbookInput.trigger': 'Which incidents run it.',
  'RegisterRunbookInput.steps': '1 to 20 steps, run in order. BAD_USER_INPUT names input.steps[i].params.<setting> for a bad setting.',
  'RegisterRunbookInput.requiresApproval': 'Hold each execution in PENDING_APPROVAL until a person approves it (default false).',
  'RegisterRunbookInput.cooldownSeconds':
    'Seconds, 0 to 604800 (7 days), after an execution during which incidents of the same stream do not run it again (default 300).',

  'Query.runbooks': 'Every runbook. Step params are shown with credentials redacted. Role: VIEWER.',
  'Query.executions': 'Runbook executions, a page at a time, optionally only in some statuses. Role: VIEWER.',
  'Query.executions(status)': 'Only executions in one of these statuses (e.g. [PENDING_APPROVAL] for what waits for you).',
  ...pageArgs('Query.executions'),
  'Query.execution': 'One runbook execution by id; null when there is none. Role: VIEWER.',
  'Query.execution(id)': 'The execution id (exe_...).',

  'Mutation.registerRunbook':
    'Registers a runbook; every step\'s params are checked now (a bad webhook URL fails here, not during an incident). Role: ADMIN. Errors: BAD_USER_INPUT (input.name, input.trigger, input.steps[i].params.<setting>, input.cooldownSeconds), NOT_FOUND (input.trigger.streamId, input.trigger.detectorId), CONFLICT (input.name).',
  'Mutation.registerRunbook(input)': 'The runbook to register.',
  'Mutation.triggerRunbook':
    'Runs a runbook by hand, for an incident or none. No cooldown; approval still applies (PENDING_APPROVAL when required). Role: OPERATOR. NOT_FOUND (runbookId, incidentId).',
  'Mutation.triggerRunbook(runbookId)': 'The runbook to run.',
  'Mutation.triggerRunbook(incidentId)': 'The incident to run it for (its stream is the default of stream steps); absent: none.',
  'Mutation.approveExecution':
    'Releases a PENDING_APPROVAL execution (four eyes: the key that requested it may not, unless the runbook has allowSelfApproval: FORBIDDEN). Role: OPERATOR. Errors: NOT_FOUND, BAD_USER_INPUT (id) when it is not pending.',
  'Mutation.approveExecution(id)': 'The execution id.',
  'Mutation.cancelExecution':
    'Cancels an unfinished execution: the step running finishes its attempt, the others never start. Role: OPERATOR. Errors: NOT_FOUND, BAD_USER_INPUT (id) when it has ended.',
  'Mutation.cancelExecution(id)': 'The execution id.',

  'Subscription.executionUpdates(runbookId)': 'Only executions of this runbook; absent: all.',
};
