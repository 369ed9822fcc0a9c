import { MAX_REPROCESS } from '../../services/dead-letters.ts';
import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

export const DEAD_LETTER_DESCRIPTIONS: Descriptions = {
  DeadLetter:
    'An event Vigil could not use (malformed JSON, a contract violation, oversized, or effects the database refused), kept with its reason so it can be fixed and reprocessed. Also produced to `<topic>.dlq`.',
  'DeadLetter.stream': 'The stream whose topic it came from.',
  'DeadLetter.source': 'The Kafka message it was.',
  'DeadLetter.reason': 'Why it was refused, e.g. "contract violation (schema v2): /latency_ms must be number" or "oversized: ... bytes".',
  'DeadLetter.receivedAt': 'When Vigil refused it.',
  'DeadLetter.reprocessedAt': 'When `reprocessDeadLetters` produced it again; null while it has not been.',

  'Query.deadLetters': 'Dead letters, a page at a time, optionally of one stream (reprocessed ones included). Role: VIEWER.',
  'Query.deadLetters(streamId)': 'Only the dead letters of this stream.',
  ...pageArgs('Query.deadLetters'),

  'Mutation.reprocessDeadLetters':
    "Checks the dead letters again against their stream's current contract (the usual fix is `updateStreamSchema`) and produces those that now pass to the topic again, as new events. Returns how many were; unknown ids, ones already reprocessed and ones still invalid are left as they are. Role: OPERATOR.",
  'Mutation.reprocessDeadLetters(ids)': `1 to ${MAX_REPROCESS} dead-letter ids (dlq_...); outside that, BAD_USER_INPUT (ids).`,
};
