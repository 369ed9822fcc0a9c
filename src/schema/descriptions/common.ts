import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../services/pagination.ts';
import type { Descriptions } from './apply.ts';

/** The `first`/`after` arguments every connection takes, worded once. */
export const PAGE_ARGS = {
  first: `Page size: 1 to ${MAX_PAGE_SIZE} items (default ${DEFAULT_PAGE_SIZE}); outside that range, BAD_USER_INPUT with extensions.field "first".`,
  after: 'The `endCursor` of the previous page (`pageInfo.endCursor`); absent: the first page. A string this API did not return is BAD_USER_INPUT.',
} as const;

/** `<prefix>(first)` and `<prefix>(after)` for a paginated field such as 'Query.incidents'. */
export function pageArgs(field: string): Record<string, string> {
  return { [`${field}(first)`]: PAGE_ARGS.first, [`${field}(after)`]: PAGE_ARGS.after };
}

/** The connections of the schema: `<Node>Connection` and `<Node>Edge` for each. */
const CONNECTION_NODES: Readonly<Record<string, string>> = {
  Stream: 'streams',
  Detector: 'detectors',
  Anomaly: 'anomalies',
  Incident: 'incidents',
  RunbookExecution: 'runbook executions',
  DeadLetter: 'dead letters',
  AuditEntry: 'audit entries',
  Silence: 'silences',
};

function connectionDescriptions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [node, plural] of Object.entries(CONNECTION_NODES)) {
    out[`${node}Connection`] = `A page of ${plural} (Relay connection): pass pageInfo.endCursor as \`after\` for the next page.`;
    out[`${node}Connection.edges`] = `The ${plural} of this page, each with its cursor.`;
    out[`${node}Connection.pageInfo`] = 'Whether more pages follow, and the cursors to ask for them.';
    out[`${node}Edge`] = `One item of a page of ${plural}, with the cursor to continue after it.`;
    out[`${node}Edge.cursor`] = 'Opaque position of this item: pass it as `after` to get the items that follow it.';
    out[`${node}Edge.node`] = 'The item itself.';
  }
  return out;
}

export const COMMON_DESCRIPTIONS: Descriptions = {
  Query:
    'Reads. Every field needs an API key (`Authorization: Bearer <secret>`); VIEWER may read everything except API keys and the audit log (ADMIN). No key: UNAUTHENTICATED.',
  Mutation:
    'Changes. Each one is authorised, validated (BAD_USER_INPUT names the input path in extensions.field), run in one transaction and recorded in the audit log, whatever its outcome.',
  Subscription:
    'Live updates over graphql-ws (`/graphql`, connectionParams.authorization) or SSE (`Accept: text/event-stream`). VIEWER and up. An open subscription of a revoked key ends within VIGIL_KEY_RECHECK_MS (5 s).',

  Node: 'Anything with a global id. The id carries its type as a prefix (str_, det_, sla_, rbk_, exe_, ano_, inc_, dlq_, key_, aud_), so `node(id)` finds it.',
  'Node.id':
    'Global, opaque id: a type prefix then a time-ordered body (newer ids sort later). Pass it to `node(id)` or to the field of its type.',

  PageInfo: 'Where a page stands in its list (Relay).',
  'PageInfo.hasNextPage': 'True when more items follow this page: ask again with `after: endCursor`.',
  'PageInfo.hasPreviousPage': 'True when this page was asked for with `after` (items come before it).',
  'PageInfo.startCursor': 'Cursor of the first item of this page; null when the page is empty.',
  'PageInfo.endCursor': 'Cursor of the last item of this page, to pass as `after`; null when the page is empty.',

  Severity: 'How urgent an anomaly, incident or SLA breach is, from INFO (lowest) to CRITICAL. Filters by minimum severity include the levels above.',
  'Severity.INFO': 'Worth recording; nobody needs to act now.',
  'Severity.WARNING': 'Needs attention soon (the default of detectors, SLAs and runbook triggers).',
  'Severity.CRITICAL': 'Needs someone now; an incident escalates to CRITICAL when a CRITICAL anomaly joins it.',

  Role: 'What an API key may do. Each role may do everything the one before it may.',
  'Role.VIEWER': 'Reads everything except API keys and the audit log; subscribes. StepExecution.output reads as null.',
  'Role.OPERATOR':
    'Also acts on what happens: publishes events, replays streams, labels anomalies, acknowledges and resolves incidents, triggers, approves and cancels runbook executions, reprocesses dead letters.',
  'Role.ADMIN':
    'Also registers and changes configuration (streams, detectors, SLAs, runbooks), pauses and resumes streams, manages API keys and reads the audit log.',

  EventRef: 'Where an event sits in Kafka: enough to find the original message.',
  'EventRef.topic': 'Kafka topic of the message.',
  'EventRef.partition': 'Kafka partition of the message; -1 for an SLA evaluation, which is no Kafka message.',
  'EventRef.offset': 'Kafka offset within the partition, as a decimal string (offsets exceed 2^53); for an SLA evaluation, its time in epoch ms.',
  'EventRef.key': "The message key (the series key, from the stream's keyField); null when the message had none.",
  'EventRef.timestamp': 'The Kafka timestamp of the message (not necessarily the event time).',

  ...connectionDescriptions(),
};
