import type { Db } from '../store/db.ts';
import type { Stream } from '../generated/prisma/client.ts';
import { newId } from '../core/ids.ts';
import { storedContract } from '../stream/contracts.ts';
import { assertStreamFields, assertValidStreamSchema, type JsonSchema } from '../stream/json-schema.ts';
import { removedFields, schemaIncompatibilities } from '../stream/schema-compatibility.ts';
import type { TopicAdmin } from '../stream/transport.ts';
import { BadUserInputError, ConflictError, NotFoundError, isUniqueViolation } from '../core/errors.ts';
import { idKeyset, paginate, type PageArgs } from './pagination.ts';
import type { RegistryVersion } from '../stream/registry-version.ts';
import { DEAD_LETTER_SUFFIX, deadLetterTopic } from '../stream/topic-names.ts';

export interface RegisterStreamInput {
  name: string;
  topic: string;
  schema?: unknown;
  keyField?: string | null;
  timestampField?: string | null;
  valueFields: string[];
  partitions?: number | null;
  retentionDays?: number | null;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
// Kafka's own rule for topic names, less the ".dlq" suffix that Vigil reserves for dead letters.
const TOPIC_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;

/** Kafka's default message.max.bytes (1 MiB plus record overhead). */
const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * max.message.bytes of a stream's topic: room for a value of twice
 * VIGIL_MAX_EVENT_BYTES (never less than Kafka's default), so an oversized
 * value reaches the worker and becomes a dead letter with its reason rather
 * than a produce error; anything larger still is refused by the broker.
 */
export function streamTopicMaxMessageBytes(maxEventBytes: number): number {
  return Math.max(KAFKA_DEFAULT_MAX_MESSAGE_BYTES, 2 * maxEventBytes + 64 * 1024);
}

/** updateStream: every setting optional, at least one given. */
export interface UpdateStreamInput {
  description?: string | null;
  retentionDays?: number | null;
  partitions?: number | null;
}

function checkPartitions(partitions: number, field: string): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000) throw new BadUserInputError(field, 'must be an integer from 1 to 1000');
  return partitions;
}

function checkRetention(retentionDays: number, field: string): number {
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) throw new BadUserInputError(field, 'must be an integer from 1 to 3650');
  return retentionDays;
}

export class StreamService {
  constructor(
    private readonly db: Db,
    private readonly topics: TopicAdmin,
    private readonly defaultPartitions: number,
    private readonly registry: RegistryVersion,
    private readonly maxEventBytes: number,
  ) {}

  async register(input: RegisterStreamInput, actor: string): Promise<Stream> {
    if (!NAME_PATTERN.test(input.name)) {
      throw new BadUserInputError('input.name', 'must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    if (!TOPIC_PATTERN.test(input.topic) || input.topic === '.' || input.topic === '..') {
      throw new BadUserInputError('input.topic', 'must be 1 to 200 letters, digits, ".", "_" or "-" (a legal Kafka topic name)');
    }
    if (input.topic.endsWith(DEAD_LETTER_SUFFIX) || input.topic.startsWith('__')) {
      throw new BadUserInputError('input.topic', `must not end with "${DEAD_LETTER_SUFFIX}" or start with "__" (reserved)`);
    }
    assertValidStreamSchema(input.schema, 'input.schema');
    const schema = input.schema as JsonSchema;
    assertStreamFields(schema, input, 'input');
    const partitions = checkPartitions(input.partitions ?? this.defaultPartitions, 'input.partitions');
    const retentionDays = checkRetention(input.retentionDays ?? 30, 'input.retentionDays');
    await this.assertUnique(input.name, input.topic);

    const existingPartitions = await this.topics.partitionCount(input.topic);
    if (existingPartitions !== undefined && existingPartitions !== partitions) {
      throw new BadUserInputError(
        'input.partitions',
        `topic "${input.topic}" already exists with ${existingPartitions} partitions; ask for ${existingPartitions} or use another topic`,
      );
    }
    // The topic first: a stream row must never point at a topic that does not exist.
    // Creating it is idempotent, so a failed insert below leaves nothing a retry trips on.
    await this.topics.ensureTopic(input.topic, partitions, streamTopicMaxMessageBytes(this.maxEventBytes));
    await this.topics.ensureTopic(deadLetterTopic(input.topic), 1);

    const id = newId('Stream');
    try {
      const stream = await this.db.stream.create({
        data: {
          id,
          name: input.name,
          topic: input.topic,
          keyField: input.keyField ?? null,
          timestampField: input.timestampField ?? null,
          valueFields: input.valueFields,
          partitions,
          retentionDays,
          schemaVersion: 1,
          schemas: { create: { version: 1, schema: schema as object, createdBy: actor } },
        },
      });
      await this.registry.bump();
      return stream;
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`a stream named "${input.name}" or on topic "${input.topic}" exists`, 'input.name');
      throw error;
    }
  }

  private async assertUnique(name: string, topic: string): Promise<void> {
    const clash = await this.db.stream.findFirst({ where: { OR: [{ name }, { topic }] }, select: { name: true, topic: true } });
    if (clash?.name === name) throw new ConflictError(`a stream named "${name}" already exists`, 'input.name');
    if (clash?.topic === topic) throw new ConflictError(`topic "${topic}" already belongs to stream "${clash.name}"`, 'input.topic');
  }

  async updateSchema(id: string, newSchema: unknown, actor: string): Promise<Stream> {
    const stream = await this.get(id, 'id');
    assertValidStreamSchema(newSchema, 'schema');
    const schema = newSchema as JsonSchema;
    const current = await this.db.streamSchemaVersion.findUniqueOrThrow({
      where: { streamId_version: { streamId: id, version: stream.schemaVersion } },
    });
    // A current version over today's limits, or that no longer compiles, refuses every event already: none can break.
    // Skipping the comparison is the way out for such a stream; it would otherwise refuse any change.
    const currentIsUnusable = storedContract(current.schema).unusable !== undefined;
    const problems = currentIsUnusable ? [] : schemaIncompatibilities(current.schema as JsonSchema, schema);
    const detectors = await this.db.detector.findMany({ where: { streamId: id }, select: { field: true } });
    const usedFields = [
      ...stream.valueFields,
      ...detectors.map((d) => d.field),
      ...(stream.keyField ? [stream.keyField] : []),
      ...(stream.timestampField ? [stream.timestampField] : []),
    ];
    for (const field of removedFields(current.schema as JsonSchema, schema, [...new Set(usedFields)])) {
      problems.push(`field "${field}" is used by the stream or its detectors and is gone from the new schema`);
    }
    if (problems.length > 0) {
      throw new BadUserInputError('schema', `not backward compatible with version ${stream.schemaVersion}: ${problems.join('; ')}`);
    }
    assertStreamFields(schema, stream, 'schema');

    const updated = await this.db.$transaction(async (tx) => {
      // Optimistic: a concurrent update of the same stream makes this one fail instead of skipping a version.
      const bumped = await tx.stream.updateMany({
        where: { id, schemaVersion: stream.schemaVersion },
        data: { schemaVersion: { increment: 1 } },
      });
      if (bumped.count !== 1) throw new ConflictError('the schema changed concurrently; read it again and retry', 'schema');
      await tx.streamSchemaVersion.create({
        data: { streamId: id, version: stream.schemaVersion + 1, schema: schema as object, createdBy: actor },
      });
      return tx.stream.findUniqueOrThrow({ where: { id } });
    });
    await this.registry.bump();
    return updated;
  }

  /**
   * Retention, partitions (up only: Kafka cannot shrink a topic) and the
   * description. More partitions move series: a key hashes modulo the count
   * (docs/api.md, the key rule), so each moved series starts a new baseline on its new
   * partition. The topic grows first, so the row never claims partitions the
   * topic lacks; a retry after a failed write finds it grown and goes on.
   */
  async update(id: string, input: UpdateStreamInput): Promise<Stream> {
    const stream = await this.get(id, 'id');
    if (input.description == null && input.retentionDays == null && input.partitions == null) {
      throw new BadUserInputError('input', 'give at least one of description, retentionDays, partitions');
    }
    if (input.description != null && input.description.length > 2000) {
      throw new BadUserInputError('input.description', 'must be at most 2000 characters');
    }
    if (input.retentionDays != null) checkRetention(input.retentionDays, 'input.retentionDays');
    const partitions = input.partitions;
    if (partitions != null) {
      checkPartitions(partitions, 'input.partitions');
      if (partitions < stream.partitions) {
        throw new BadUserInputError('input.partitions', `Kafka cannot take partitions away: the topic has ${stream.partitions}; give ${stream.partitions} or more`);
      }
      const existing = (await this.topics.partitionCount(stream.topic)) ?? 0;
      if (existing < partitions) await this.topics.addPartitions(stream.topic, partitions);
    }
    const updated = await this.db.stream.update({
      where: { id },
      data: {
        ...(input.description != null ? { description: input.description } : {}),
        ...(input.retentionDays != null ? { retentionDays: input.retentionDays } : {}),
        ...(partitions != null ? { partitions } : {}),
      },
    });
    // Workers check partitioning against the count they hold: they must read the new one.
    if (partitions != null && partitions !== stream.partitions) await this.registry.bump();
    return updated;
  }

  async setStatus(id: string, status: 'ACTIVE' | 'PAUSED'): Promise<Stream> {
    await this.get(id, 'id');
    const stream = await this.db.stream.update({ where: { id }, data: { status } });
    await this.registry.bump();
    return stream;
  }

  async get(id: string, field?: string): Promise<Stream> {
    const stream = await this.db.stream.findUnique({ where: { id } });
    if (!stream) throw new NotFoundError('stream', id, field);
    return stream;
  }

  find(where: { id?: string | null; name?: string | null }): Promise<Stream | null> {
    if (where.id) return this.db.stream.findUnique({ where: { id: where.id } });
    if (where.name) return this.db.stream.findUnique({ where: { name: where.name } });
    throw new BadUserInputError('id', 'give the stream id or name');
  }

  /** Archived streams only when asked for. */
  list(args: PageArgs & { includeArchived?: boolean | null }) {
    return paginate(args, ({ take, afterId }) =>
      this.db.stream.findMany({ where: { ...(args.includeArchived ? {} : { archivedAt: null }), ...idKeyset(afterId) }, orderBy: { id: 'asc' }, take }),
    );
  }

  async currentSchema(stream: Stream): Promise<unknown> {
    const version = await this.db.streamSchemaVersion.findUniqueOrThrow({
      where: { streamId_version: { streamId: stream.id, version: stream.schemaVersion } },
    });
    return version.schema;
  }
}
