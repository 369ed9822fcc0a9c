/** Vigil reserves this suffix: `<topic>.dlq` holds a copy of the topic's dead letters. */
export const DEAD_LETTER_SUFFIX = '.dlq';

/** The topic that receives a copy of a stream's dead letters (the row in PostgreSQL is the one of record). */
export function deadLetterTopic(topic: string): string {
  return `${topic}${DEAD_LETTER_SUFFIX}`;
}
