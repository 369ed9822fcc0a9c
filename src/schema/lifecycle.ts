import type { ObjectRef } from '@pothos/core';
import type { ArchivableKind } from '../services/lifecycle.ts';
import { builder, type VigilTypes } from './builder.ts';
import { SeverityEnum } from './common.ts';
import { DetectorRef, RunbookRef, SlaRef, StreamRef } from './refs.ts';
import { RunbookStepInput, RunbookTriggerInput } from './runbooks.ts';

/**
 * The lifecycle of configuration after registration: change (updateStream,
 * updateSla, updateRunbook; detectors have updateDetector) and archive or
 * restore. Every mutation here is ADMIN's and audited (access-plugin.ts). Archiving
 * keeps history: see src/services/lifecycle.ts for what stops running.
 */

const UpdateStreamInput = builder.inputType('UpdateStreamInput', {
  description: 'Settings of a stream to change (`updateStream`); give at least one. The contract changes through `updateStreamSchema`.',
  fields: (t) => ({
    description: t.string({ description: 'Free text for people: what the stream carries, who owns it. At most 2000 characters.' }),
    retentionDays: t.int({
      description: 'Days anomalies and dead letters are kept, and resolved incidents after resolution: 1 to 3650. Applies from the next retention run.',
    }),
    partitions: t.int({
      description:
        'Kafka partitions of the topic, up only (Kafka cannot shrink a topic), at most 1000. Keys hash modulo the count, so series move: each moved series starts a new baseline on its new partition.',
    }),
  }),
});

const UpdateSlaInput = builder.inputType('UpdateSlaInput', {
  description: 'Settings of an SLA to change (`updateSla`); give at least one. The objective cannot change: register another SLA.',
  fields: (t) => ({
    name: t.string({ description: 'New name, 1 to 100 characters, unique on the stream (CONFLICT when taken).' }),
    threshold: t.float({ description: 'New threshold, >= 0; a fraction from 0 to 1 for ERROR_RATE, COMPLETENESS and ANOMALY_RATE.' }),
    windowSeconds: t.int({ description: 'New measurement window: 1 to 2592000 seconds (30 days).' }),
    severity: t.field({ type: SeverityEnum, description: 'Severity of the anomaly (and incident) a breach records from now on.' }),
  }),
});

const UpdateRunbookInput = builder.inputType('UpdateRunbookInput', {
  description:
    'Settings of a runbook to change (`updateRunbook`); give at least one. A given trigger or list of steps replaces the current one whole. Executions already planned keep their steps.',
  fields: (t) => ({
    name: t.string({ description: 'New name, 1 to 100 characters, unique (CONFLICT when taken).' }),
    trigger: t.field({ type: RunbookTriggerInput, description: 'Which incidents run the runbook from now on.' }),
    steps: t.field({ type: [RunbookStepInput], description: 'The new steps, 1 to 20, checked as at registration.' }),
    requiresApproval: t.boolean({ description: 'Whether an execution waits in PENDING_APPROVAL for an OPERATOR or ADMIN.' }),
    allowSelfApproval: t.boolean({ description: 'Whether the key that requested an execution may approve it too.' }),
    cooldownSeconds: t.int({ description: 'Minimum time between automatic runs for one stream: 0 to 604800 seconds (7 days).' }),
  }),
});

builder.mutationFields((t) => ({
  updateStream: t.field({
    type: StreamRef,
    description: 'Changes the description, retention or partition count (up only) of a stream. ADMIN.',
    args: {
      id: t.arg.id({ required: true, description: 'The stream to change.' }),
      input: t.arg({ type: UpdateStreamInput, required: true, description: 'The settings to change.' }),
    },
    authScopes: { role: 'ADMIN' },
    audit: (args) => ({ target: args.id, detail: args.input }),
    resolve: (_root, args, ctx) => ctx.services.streams.update(args.id, args.input),
  }),
  updateSla: t.field({
    type: SlaRef,
    description: 'Changes the name, threshold, window or severity of an SLA; its next evaluation judges by them. ADMIN.',
    args: {
      id: t.arg.id({ required: true, description: 'The SLA to change.' }),
      input: t.arg({ type: UpdateSlaInput, required: true, description: 'The settings to change.' }),
    },
    authScopes: { role: 'ADMIN' },
    audit: (args) => ({ target: args.id, detail: args.input }),
    resolve: (_root, args, ctx) => ctx.services.slas.update(args.id, args.input),
  }),
  updateRunbook: t.field({
    type: RunbookRef,
    description: 'Changes the settings of a runbook; the next execution uses them. ADMIN.',
    args: {
      id: t.arg.id({ required: true, description: 'The runbook to change.' }),
      input: t.arg({ type: UpdateRunbookInput, required: true, description: 'The settings to change.' }),
    },
    authScopes: { role: 'ADMIN' },
    audit: (args) => ({ target: args.id, detail: args.input }),
    resolve: (_root, args, ctx) => ctx.services.runbooks.update(args.id, args.input),
  }),
  ...archiveAndRestore(t, 'Stream', StreamRef, 'Workers stop consuming its topic (events wait in Kafka, within its retention); its detectors and SLAs stop with it.'),
  ...archiveAndRestore(t, 'Detector', DetectorRef, 'Workers stop running it. An SLA\'s own detector cannot be archived alone: archive the SLA.'),
  ...archiveAndRestore(t, 'Sla', SlaRef, 'It is no longer evaluated; it keeps its last state.'),
  ...archiveAndRestore(t, 'Runbook', RunbookRef, 'Incidents no longer trigger it and `triggerRunbook` refuses it; planned executions run on.'),
}));

type MutationFieldBuilder = Parameters<Parameters<typeof builder.mutationFields>[0]>[0];

/** `archive<Kind>` and `restore<Kind>`, both ADMIN and audited, both BAD_USER_INPUT (field `id`) when already in the asked state. */
function archiveAndRestore<K extends ArchivableKind, T>(t: MutationFieldBuilder, kind: K, ref: ObjectRef<VigilTypes, T>, whatStops: string) {
  const label = kind === 'Sla' ? 'SLA' : kind.toLowerCase();
  const field = (verb: 'archive' | 'restore', description: string) =>
    t.field({
      type: ref,
      description,
      authScopes: { role: 'ADMIN' },
      args: { id: t.arg.id({ required: true, description: `The ${label} to ${verb}.` }) },
      audit: (args) => ({ target: args.id }),
      resolve: (_root, args, ctx) =>
        (verb === 'archive' ? ctx.services.lifecycle.archive(kind, args.id) : ctx.services.lifecycle.restore(kind, args.id)) as never,
    });
  return {
    [`archive${kind}`]: field(
      'archive',
      `Archives ${kind === 'Sla' ? 'an' : 'a'} ${label}: ${whatStops} It leaves default lists (ask with includeArchived: true) and keeps its history and lineage. ADMIN.`,
    ),
    [`restore${kind}`]: field('restore', `Restores an archived ${label}: it runs again as it was and returns to default lists. ADMIN.`),
  };
}
