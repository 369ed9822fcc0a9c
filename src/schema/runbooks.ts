import type { Runbook } from '../generated/prisma/client.ts';
import { roleAtLeast } from '../core/principal.ts';
import { redactUrlsIn } from '../core/redact-url.ts';
import { publicStepParams, runbookSteps } from '../services/runbooks.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs, SeverityEnum } from './common.ts';
import { principalOf } from './guard.ts';
import { INCLUDE_ARCHIVED_DESCRIPTION, ListOrderEnum, ORDER_BY_DESCRIPTION } from './lifecycle-fields.ts';
import { deliveredCursor } from './resumable.ts';
import {
  DetectorRef,
  IncidentRef,
  RunbookExecutionRef,
  RunbookRef,
  RunbookStepRef,
  StepExecutionRef,
  StreamRef,
} from './refs.ts';

export const RunbookActionEnum = builder.enumType('RunbookAction', {
  values: {
    WEBHOOK: { description: 'POST a JSON body to params.url; 2xx is success.' },
    REPLAY: { description: 'Re-consume the stream from params.fromTimestamp (or the incident start).' },
    PAUSE_STREAM: {},
    RESUME_STREAM: {},
    SCALE: { description: 'Emit a scale request (params.target, params.replicas) to the scale hook.' },
    NOTIFY: { description: 'Publish a notification on the incident timeline and subscriptions.' },
  } as const,
});

export const ExecutionStatusEnum = builder.enumType('ExecutionStatus', {
  values: ['PENDING_APPROVAL', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const,
});

const RunbookTriggerRef = builder.objectRef<Runbook>('RunbookTrigger').implement({
  fields: (t) => ({
    stream: t.field({
      type: StreamRef,
      nullable: true,
      resolve: (r) => r.triggerStreamId,
    }),
    detector: t.field({
      type: DetectorRef,
      nullable: true,
      resolve: (r) => r.triggerDetectorId,
    }),
    minSeverity: t.expose('minSeverity', { type: SeverityEnum }),
  }),
});

RunbookStepRef.implement({
  fields: (t) => ({
    action: t.expose('action', { type: RunbookActionEnum }),
    params: t.field({
      type: 'JSON',
      description: 'The step settings, with credentials (secret, header values, userinfo and query of the url) redacted.',
      resolve: (step) => publicStepParams(step.params),
    }),
  }),
});

const RunbookExecutionConnection = connectionOf('RunbookExecution', RunbookExecutionRef);

RunbookRef.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    trigger: t.field({ type: RunbookTriggerRef, resolve: (r) => r }),
    steps: t.field({ type: [RunbookStepRef], resolve: (r) => runbookSteps(r) }),
    requiresApproval: t.exposeBoolean('requiresApproval'),
    allowSelfApproval: t.exposeBoolean('allowSelfApproval', {
      description: 'Whether the key that requested an execution may approve it too; false (the default) requires a second OPERATOR or ADMIN.',
    }),
    cooldownSeconds: t.exposeInt('cooldownSeconds'),
    // The same page of every runbook in a list is read at once; byPath keeps aliases with other page arguments apart.
    executions: t.loadable({
      type: RunbookExecutionConnection,
      args: { ...pageArgs(t.arg), orderBy: t.arg({ type: ListOrderEnum, description: ORDER_BY_DESCRIPTION }) },
      byPath: true,
      load: (runbookIds: string[], ctx, args) => ctx.services.batch.executionsOfRunbooks(runbookIds, args),
      resolve: (r) => r.id,
    }),
  }),
});

StepExecutionRef.implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    action: t.expose('action', { type: RunbookActionEnum }),
    status: t.expose('status', { type: ExecutionStatusEnum }),
    attempts: t.exposeInt('attempts'),
    output: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'What the step returned (a WEBHOOK: the status and a short redacted excerpt of the answer). OPERATOR and up only: null for a VIEWER, since an answer may describe systems a VIEWER should not see.',
      resolve: (s, _a, ctx) => (ctx.principal && roleAtLeast(ctx.principal.role, 'OPERATOR') ? s.output : null),
    }),
    error: t.string({
      nullable: true,
      description: 'Why the last attempt failed, with credentials in URLs redacted.',
      // Read-time redaction too: rows written before URLs were redacted when stored still hold them.
      resolve: (s) => (s.error === null ? null : redactUrlsIn(s.error)),
    }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

RunbookExecutionRef.implement({
  fields: (t) => ({
    runbook: t.field({ type: RunbookRef, resolve: (e) => e.runbookId }),
    incident: t.field({ type: IncidentRef, nullable: true, resolve: (e) => e.incidentId }),
    status: t.expose('status', { type: ExecutionStatusEnum }),
    steps: t.loadableList({
      type: StepExecutionRef,
      load: (executionIds: string[], ctx) => ctx.services.batch.stepsFor(executionIds),
      resolve: (e) => e.id,
    }),
    requestedBy: t.exposeString('requestedBy'),
    approvedBy: t.exposeString('approvedBy', { nullable: true }),
    verified: t.exposeBoolean('verified', {
      nullable: true,
      description:
        'With params.verifyWithinSeconds: true when no new anomaly followed the remediation in time and no SLA breached in its incident was still broken; null until known or when not asked for.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    cursor: t.string({
      nullable: true,
      description:
        'Where this state of the execution stands in commit order, set on executions `executionUpdates` pushes (null when read by a query): pass the last one received as `after` to resume.',
      resolve: (e) => deliveredCursor(e),
    }),
  }),
});

export const RunbookTriggerInput = builder.inputType('RunbookTriggerInput', {
  fields: (t) => ({
    streamId: t.id(),
    detectorId: t.id(),
    minSeverity: t.field({ type: SeverityEnum, defaultValue: 'WARNING' }),
  }),
});

export const RunbookStepInput = builder.inputType('RunbookStepInput', {
  fields: (t) => ({
    action: t.field({ type: RunbookActionEnum, required: true }),
    params: t.field({ type: 'JSON', description: 'Default {}.' }),
  }),
});

const RegisterRunbookInput = builder.inputType('RegisterRunbookInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    trigger: t.field({ type: RunbookTriggerInput, required: true }),
    steps: t.field({ type: [RunbookStepInput], required: true }),
    requiresApproval: t.boolean({ defaultValue: false }),
    allowSelfApproval: t.boolean({
      defaultValue: false,
      description: 'Let the key that requested an execution approve it too (default false: four eyes).',
    }),
    cooldownSeconds: t.int({ defaultValue: 300 }),
  }),
});

builder.queryFields((t) => ({
  runbooks: t.field({
    type: [RunbookRef],
    authScopes: { role: 'VIEWER' },
    args: { includeArchived: t.arg.boolean({ description: INCLUDE_ARCHIVED_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.runbooks.list(args.includeArchived),
  }),
  executions: t.field({
    type: RunbookExecutionConnection,
    authScopes: { role: 'VIEWER' },
    args: { status: t.arg({ type: [ExecutionStatusEnum] }), ...pageArgs(t.arg), orderBy: t.arg({ type: ListOrderEnum, description: ORDER_BY_DESCRIPTION }) },
    resolve: (_root, args, ctx) => ctx.services.executions.list({ status: args.status }, args),
  }),
  execution: t.field({
    type: RunbookExecutionRef,
    nullable: true,
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.executions.get(args.id),
  }),
}));

builder.mutationFields((t) => ({
  registerRunbook: t.field({
    type: RunbookRef,
    authScopes: { role: 'ADMIN' },
    args: { input: t.arg({ type: RegisterRunbookInput, required: true }) },
    audit: ({ input }) => ({ target: input.name, detail: input }),
    resolve: (_root, { input }, ctx) => ctx.services.runbooks.register(input),
  }),
  triggerRunbook: t.field({
    type: RunbookExecutionRef,
    authScopes: { role: 'OPERATOR' },
    args: { runbookId: t.arg.id({ required: true }), incidentId: t.arg.id() },
    audit: (args) => ({ target: args.runbookId, detail: args }),
    resolve: (_root, args, ctx) => ctx.services.executions.trigger(args.runbookId, args.incidentId, principalOf(ctx)),
  }),
  approveExecution: t.field({
    type: RunbookExecutionRef,
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }) },
    audit: (args) => ({ target: args.id }),
    resolve: (_root, args, ctx) => ctx.services.executions.approve(args.id, principalOf(ctx)),
  }),
  cancelExecution: t.field({
    type: RunbookExecutionRef,
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }) },
    audit: (args) => ({ target: args.id }),
    resolve: (_root, args, ctx) => ctx.services.executions.cancel(args.id, principalOf(ctx).name),
  }),
}));
