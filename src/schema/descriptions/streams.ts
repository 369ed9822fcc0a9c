import { MAX_EVENTS_PER_PUBLISH } from '../../services/events.ts';
import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

export const STREAM_DESCRIPTIONS: Descriptions = {
  Stream:
    'A Kafka topic Vigil watches: its data contract (a JSON Schema), which field splits it into series, which numeric fields detectors may watch, and its detectors and SLAs.',
  'Stream.name': 'Unique name: 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit.',
  'Stream.topic': 'The Kafka topic events are consumed from (and `publishEvents` produces to). Refused events go to `<topic>.dlq`.',
  'Stream.schemaVersion': 'Version of the current contract: 1 at registration, one more on each `updateStreamSchema`.',
  'Stream.valueFields': 'Numeric properties (dotted paths, e.g. "http.latency_ms") that detectors may watch.',
  'Stream.status': 'ACTIVE while workers consume the topic; PAUSED stops consumption (events wait in Kafka, within its retention).',
  'Stream.retentionDays':
    'Days anomalies and dead letters are kept after they were recorded, and resolved incidents after they were resolved (default 30).',
  'Stream.createdAt': 'When the stream was registered.',
  'Stream.detectors': 'The detectors watching this stream, oldest first.',
  'Stream.slas': 'The SLAs promised on this stream.',
  'Stream.health': 'Lag, rates, dead letters and freshness of the stream now.',

  StreamStatus: 'Whether workers consume a stream.',
  'StreamStatus.ACTIVE': 'Workers consume the topic and run its detectors.',
  'StreamStatus.PAUSED': 'Workers do not consume the topic; events wait in Kafka and are processed on `resumeStream` (within Kafka retention).',

  RegisterStreamInput: 'A stream to register (`registerStream`).',
  'RegisterStreamInput.name': 'Unique name: 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit. CONFLICT when taken.',
  'RegisterStreamInput.topic':
    'Kafka topic: 1 to 200 letters, digits, ".", "_" or "-", not starting with "__" nor ending with ".dlq". Created when missing (with `<topic>.dlq` for dead letters); CONFLICT when another stream has it.',
  'RegisterStreamInput.schema':
    'The data contract: a JSON Schema (draft-07, or 2020-12 when `$schema` names it) every event value must satisfy; events that do not become dead letters. Later changes must be backward compatible (`updateStreamSchema`).',
  'RegisterStreamInput.keyField':
    'Property (dotted path) whose value splits the stream into series, e.g. "host": a string or integer property. It must also be the Kafka message key, so a series stays on one partition. Absent: one series.',
  'RegisterStreamInput.timestampField':
    'Property holding event time: an ISO-8601 string or epoch milliseconds. Absent: the Kafka timestamp.',
  'RegisterStreamInput.valueFields':
    'At least one number or integer property of the schema (dotted paths, each once) that detectors may watch.',
  'RegisterStreamInput.partitions':
    'Kafka partitions of the topic, 1 to 1000 (default 3). For a topic that exists already, its partition count, else BAD_USER_INPUT.',
  'RegisterStreamInput.retentionDays': 'Days anomalies, dead letters and resolved incidents are kept, 1 to 3650 (default 30).',

  ReplayInput: 'Where a replay restarts consumption (`replayStream`): give exactly one of fromTimestamp and fromOffsets.',
  'ReplayInput.streamId': 'The stream to replay. NOT_FOUND when unknown.',

  Rejection: 'An event `publishEvents` refused; nothing of it was produced.',
  'Rejection.index': 'Position of the refused event in the `events` list, from 0.',
  'Rejection.reason':
    'Why: the contract violation (with the schema version), the size limit (VIGIL_MAX_EVENT_BYTES, default 1 MiB), or a series key longer than VIGIL_MAX_KEY_LENGTH characters (default 256), which the worker would dead-letter.',

  PublishResult: 'What `publishEvents` did with each event.',
  'PublishResult.accepted': 'Events produced to the topic.',
  'PublishResult.rejected': 'Events refused, with their index and reason; the others were produced.',

  ReplayResult: 'Where consumption of a replayed stream restarts.',
  'ReplayResult.stream': 'The replayed stream.',

  'Query.streams': 'Registered streams, a page at a time. Role: VIEWER.',
  ...pageArgs('Query.streams'),
  'Query.stream': 'One stream by id or by name; null when there is none. Give one of id and name (neither: BAD_USER_INPUT). Role: VIEWER.',
  'Query.stream(id)': 'The stream id (str_...).',
  'Query.stream(name)': 'The stream name.',

  'Mutation.registerStream':
    'Registers a stream: checks the contract and fields, creates the topic and its dead-letter topic when missing. Role: ADMIN. Errors: BAD_USER_INPUT (input.name, input.topic, input.schema, input.valueFields[i], input.keyField, input.timestampField, input.partitions, input.retentionDays), CONFLICT (name or topic taken).',
  'Mutation.registerStream(input)': 'The stream to register.',
  'Mutation.updateStreamSchema(id)': 'The stream id. NOT_FOUND when unknown. Role: ADMIN.',
  'Mutation.updateStreamSchema(schema)':
    'The new JSON Schema. It must accept every event the current one accepts (else BAD_USER_INPUT listing what breaks) and still hold the key, timestamp and value fields; it becomes version schemaVersion + 1. CONFLICT when changed concurrently.',
  'Mutation.pauseStream': 'Stops consumption of the stream (status PAUSED); events wait in Kafka. Role: ADMIN. NOT_FOUND when unknown.',
  'Mutation.pauseStream(id)': 'The stream id.',
  'Mutation.resumeStream': 'Resumes consumption where it stopped (status ACTIVE). Role: ADMIN. NOT_FOUND when unknown.',
  'Mutation.resumeStream(id)': 'The stream id.',
  'Mutation.replayStream':
    'Re-consumes the stream from a time or from offsets: detectors see the events again; an event already scored by the same detector version makes no second anomaly. Role: OPERATOR. Errors: NOT_FOUND (input.streamId), BAD_USER_INPUT (input.fromTimestamp, input.fromOffsets.<partition>).',
  'Mutation.replayStream(input)': 'The stream and where to restart.',
  'Mutation.publishEvents(streamId)': 'The stream whose topic the events go to. NOT_FOUND when unknown; CONFLICT when its topic does not exist on the broker (nothing is produced). Role: OPERATOR.',
  'Mutation.publishEvents(events)': `1 to ${MAX_EVENTS_PER_PUBLISH} event values (JSON objects as the contract describes). Each valid one is produced keyed by its keyField value, so a series stays on one partition.`,
};
