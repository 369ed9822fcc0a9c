import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  parse,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/generated/prisma/enums.ts';
import { newId } from '../../src/core/ids.ts';
import { hashSecret } from '../../src/services/api-keys.ts';
import { encodeCursor } from '../../src/services/pagination.ts';
import { actorName } from '../../src/core/principal.ts';
import { buildSchema } from '../../src/schema/index.ts';
import { TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';
import { graphqlErrors, LATENCY_SCHEMA, REGISTER_STREAM, startHarness, type Harness } from '../support/harness.ts';

/**
 * Who may do what, through the real gateway: every mutation against every
 * kind of caller, every query without a key, API key lifecycle and the audit
 * log. Everything this file creates is named with PREFIX, so the "nothing was
 * written" checks count only this file's rows and stay exact while other
 * tests write to the same database.
 */
let h: Harness;
const kafka = new Kafka({ clientId: 'vigil-access-test', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const kafkaAdmin = kafka.admin();
const PREFIX = uniqueName('acc');
let seq = 0;
/** A fresh name under PREFIX, so calls never collide with each other or with a refused earlier attempt. */
const fresh = (what: string) => `${PREFIX}-${what}-${++seq}`;

const ROLES: readonly Role[] = ['VIEWER', 'OPERATOR', 'ADMIN'];
const RANK: Record<Role, number> = { VIEWER: 1, OPERATOR: 2, ADMIN: 3 };

interface Key {
  id: string;
  secret: string;
  /** How the audit log names this key's actions. */
  actor: string;
}

/** Rows this file creates in beforeAll; the mutation calls reference them. */
const fx = {} as {
  stream: { id: string; name: string; topic: string };
  detectorId: string;
  runbookId: string;
  incidentId: string;
  anomalyId: string;
  /** The key revokeApiKey acts on. */
  victimKeyId: string;
  revoked: Key;
  keys: Record<Role, Key>;
};

async function makeKey(role: Role, label = role.toLowerCase()): Promise<Key> {
  const name = fresh(label);
  const { id, secret } = await h.createKey(role, name);
  return { id, secret, actor: actorName({ keyId: id, name, role }) };
}

beforeAll(async () => {
  h = await startHarness();
  await kafkaAdmin.connect();
  const db = h.runtime.services.ports.db;

  const streamName = fresh('stream');
  const { registerStream } = await h.admin.request<{ registerStream: { id: string; name: string; topic: string } }>(REGISTER_STREAM, {
    input: { name: streamName, topic: streamName, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms', 'errors'], partitions: 1 },
  });
  fx.stream = registerStream;

  const { registerDetector } = await h.admin.request<{ registerDetector: { id: string } }>(
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    { input: { streamId: fx.stream.id, name: fresh('det'), field: 'latency_ms', kind: 'THRESHOLD', params: { max: 500 } } },
  );
  fx.detectorId = registerDetector.id;

  const { registerRunbook } = await h.admin.request<{ registerRunbook: { id: string } }>(
    `mutation($input: RegisterRunbookInput!) { registerRunbook(input: $input) { id } }`,
    { input: { name: fresh('rbk'), trigger: { streamId: fx.stream.id }, steps: [{ action: 'NOTIFY' }] } },
  );
  fx.runbookId = registerRunbook.id;

  // Incidents and anomalies have no create mutation: the stream worker makes them.
  fx.incidentId = newId('Incident');
  await db.incident.create({
    data: { id: fx.incidentId, title: `${PREFIX} latency`, severity: 'WARNING', streamId: fx.stream.id, groupKey: `${PREFIX}-group`, anomalyCount: 1 },
  });
  fx.anomalyId = newId('Anomaly');
  const now = new Date();
  await db.anomaly.create({
    data: {
      id: fx.anomalyId,
      streamId: fx.stream.id,
      detectorId: fx.detectorId,
      detectorVersion: 1,
      seriesKey: 'web-1',
      field: 'latency_ms',
      value: 900,
      score: 1.8,
      upper: 500,
      severity: 'WARNING',
      shadow: false,
      eventTime: now,
      explanation: 'value 900 is above the maximum 500',
      topic: fx.stream.topic,
      partition: 0,
      offset: 0n,
      eventTimestamp: now,
      schemaVersion: 1,
      incidentId: fx.incidentId,
    },
  });

  const [viewer, operator, admin, victim, revoked] = await Promise.all([
    makeKey('VIEWER'),
    makeKey('OPERATOR'),
    // Its own ADMIN key (not the configured secret) so its audit entries are told apart from other tests' admin calls.
    makeKey('ADMIN'),
    makeKey('VIEWER', 'victim'),
    makeKey('OPERATOR', 'revoked'),
  ]);
  fx.keys = { VIEWER: viewer, OPERATOR: operator, ADMIN: admin };
  fx.victimKeyId = victim.id;
  await h.runtime.services.apiKeys.revoke(revoked.id);
  fx.revoked = revoked;
});

afterAll(async () => {
  await kafkaAdmin.disconnect();
  await h?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers

type GqlError = { message: string; extensions: Record<string, unknown> };

/** Sends a document with or without a key and returns its errors (empty when it succeeded). */
async function send(secret: string | undefined, document: string, variables?: Record<string, unknown>): Promise<GqlError[]> {
  try {
    await h.client(secret).request(document, variables);
    return [];
  } catch (error) {
    const errors = (error as { response?: { errors?: GqlError[] } }).response?.errors;
    if (errors) return errors;
    throw error;
  }
}

const codes = (errors: GqlError[]) => errors.map((e) => e.extensions?.code);

const lastAuditSeq = async () =>
  (await h.runtime.services.ports.db.auditEntry.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } }))?.seq ?? 0n;

/**
 * Everything a mutation of the matrix could write, restricted to this file's
 * rows: counts of streams, detectors, SLAs, runbooks and keys, the state of
 * each fixture and the end offset of the stream's topic.
 */
async function snapshot() {
  const db = h.runtime.services.ports.db;
  const mine = { startsWith: PREFIX };
  const [streams, detectors, slas, runbooks, apiKeys, stream, schemaVersions, detector, detectorVersions, anomaly, incident, timeline, executions, victim, offsets] =
    await Promise.all([
      db.stream.count({ where: { name: mine } }),
      db.detector.count({ where: { stream: { name: mine } } }),
      db.sla.count({ where: { stream: { name: mine } } }),
      db.runbook.count({ where: { name: mine } }),
      db.apiKey.count({ where: { name: mine } }),
      db.stream.findUniqueOrThrow({ where: { id: fx.stream.id }, select: { status: true, schemaVersion: true } }),
      db.streamSchemaVersion.count({ where: { streamId: fx.stream.id } }),
      db.detector.findUniqueOrThrow({ where: { id: fx.detectorId }, select: { currentVersion: true } }),
      db.detectorVersion.count({ where: { detectorId: fx.detectorId } }),
      db.anomaly.findUniqueOrThrow({ where: { id: fx.anomalyId }, select: { label: true, labelNote: true, labelledBy: true } }),
      db.incident.findUniqueOrThrow({ where: { id: fx.incidentId }, select: { status: true, acknowledgedAt: true, resolvedAt: true } }),
      db.incidentEvent.count({ where: { incidentId: fx.incidentId } }),
      db.runbookExecution.count({ where: { runbookId: fx.runbookId } }),
      db.apiKey.findUniqueOrThrow({ where: { id: fx.victimKeyId }, select: { revokedAt: true } }),
      kafkaAdmin.fetchTopicOffsets(fx.stream.topic),
    ]);
  return {
    counts: { streams, detectors, slas, runbooks, apiKeys, schemaVersions, detectorVersions, timeline, executions },
    stream,
    detector,
    anomaly,
    incident,
    victim,
    topicEnd: offsets.map((o) => `${o.partition}:${o.high}`).sort(),
  };
}

// ---------------------------------------------------------------------------------------------
// The role matrix

interface MutationCase {
  /** The least role the contract lets call it. */
  role: Role;
  document: string;
  /** Built at call time: fresh names, and ids of the fixtures created in beforeAll. */
  variables: () => Record<string, unknown>;
}

/** Unknown ids where the call would fail after authorisation (the action is not reachable otherwise). */
const unknown = (prefix: string) => `${prefix}_${PREFIX.replace(/[^a-z0-9]/gi, '')}${++seq}`;

/** archive<Kind> and restore<Kind>, both ADMIN; on an unknown id they fail (NOT_FOUND) after authorisation. */
function archiveCases(kind: string, prefix: string): Record<string, MutationCase> {
  const entry = (verb: string): MutationCase => ({
    role: 'ADMIN',
    document: `mutation($id: ID!) { ${verb}${kind}(id: $id) { id archivedAt } }`,
    variables: () => ({ id: unknown(prefix) }),
  });
  return { [`archive${kind}`]: entry('archive'), [`restore${kind}`]: entry('restore') };
}

const MATRIX: Record<string, MutationCase> = {
  registerStream: {
    role: 'ADMIN',
    document: `mutation($input: RegisterStreamInput!) { registerStream(input: $input) { id } }`,
    variables: () => {
      const name = fresh('s');
      return { input: { name, topic: name, schema: LATENCY_SCHEMA, valueFields: ['latency_ms'], partitions: 1 } };
    },
  },
  updateStreamSchema: {
    role: 'ADMIN',
    document: `mutation($id: ID!, $schema: JSON!) { updateStreamSchema(id: $id, schema: $schema) { id schemaVersion } }`,
    variables: () => ({
      id: fx.stream.id,
      schema: { ...LATENCY_SCHEMA, properties: { ...LATENCY_SCHEMA.properties, [`f${++seq}`]: { type: 'string' } } },
    }),
  },
  pauseStream: { role: 'ADMIN', document: `mutation($id: ID!) { pauseStream(id: $id) { id status } }`, variables: () => ({ id: fx.stream.id }) },
  resumeStream: { role: 'ADMIN', document: `mutation($id: ID!) { resumeStream(id: $id) { id status } }`, variables: () => ({ id: fx.stream.id }) },
  replayStream: {
    role: 'OPERATOR',
    document: `mutation($input: ReplayInput!) { replayStream(input: $input) { fromOffsets } }`,
    variables: () => ({ input: { streamId: fx.stream.id, fromTimestamp: new Date(Date.now() - 3_600_000).toISOString() } }),
  },
  publishEvents: {
    role: 'OPERATOR',
    document: `mutation($streamId: ID!, $events: [JSON!]!) { publishEvents(streamId: $streamId, events: $events) { accepted } }`,
    variables: () => ({ streamId: fx.stream.id, events: [{ host: 'web-1', latency_ms: 120 }] }),
  },
  registerDetector: {
    role: 'ADMIN',
    document: `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    variables: () => ({ input: { streamId: fx.stream.id, name: fresh('d'), field: 'latency_ms', kind: 'THRESHOLD', params: { max: 800 } } }),
  },
  updateDetector: {
    role: 'ADMIN',
    document: `mutation($id: ID!, $input: UpdateDetectorInput!) { updateDetector(id: $id, input: $input) { id version } }`,
    variables: () => ({ id: fx.detectorId, input: { params: { max: 500 + ++seq } } }),
  },
  rollbackDetector: {
    role: 'ADMIN',
    document: `mutation($id: ID!, $version: Int!) { rollbackDetector(id: $id, version: $version) { id version } }`,
    variables: () => ({ id: fx.detectorId, version: 1 }),
  },
  registerSla: {
    role: 'ADMIN',
    document: `mutation($input: RegisterSlaInput!) { registerSla(input: $input) { id } }`,
    variables: () => ({ input: { streamId: fx.stream.id, name: fresh('sla'), objective: 'FRESHNESS', threshold: 60, windowSeconds: 300 } }),
  },
  registerRunbook: {
    role: 'ADMIN',
    document: `mutation($input: RegisterRunbookInput!) { registerRunbook(input: $input) { id } }`,
    variables: () => ({ input: { name: fresh('rb'), trigger: { streamId: fx.stream.id }, steps: [{ action: 'NOTIFY' }] } }),
  },
  triggerRunbook: {
    role: 'OPERATOR',
    document: `mutation($runbookId: ID!, $incidentId: ID) { triggerRunbook(runbookId: $runbookId, incidentId: $incidentId) { id status } }`,
    variables: () => ({ runbookId: fx.runbookId, incidentId: fx.incidentId }),
  },
  approveExecution: {
    role: 'OPERATOR',
    document: `mutation($id: ID!) { approveExecution(id: $id) { id status } }`,
    variables: () => ({ id: unknown('exe') }),
  },
  cancelExecution: {
    role: 'OPERATOR',
    document: `mutation($id: ID!) { cancelExecution(id: $id) { id status } }`,
    variables: () => ({ id: unknown('exe') }),
  },
  labelAnomaly: {
    role: 'OPERATOR',
    document: `mutation($id: ID!, $label: AnomalyLabel!) { labelAnomaly(id: $id, label: $label, note: "checked") { id label } }`,
    variables: () => ({ id: fx.anomalyId, label: 'TRUE_POSITIVE' }),
  },
  acknowledgeIncident: {
    role: 'OPERATOR',
    document: `mutation($id: ID!) { acknowledgeIncident(id: $id, note: "on it") { id status } }`,
    variables: () => ({ id: fx.incidentId }),
  },
  resolveIncident: {
    role: 'OPERATOR',
    document: `mutation($id: ID!) { resolveIncident(id: $id, note: "fixed") { id status } }`,
    variables: () => ({ id: fx.incidentId }),
  },
  reprocessDeadLetters: {
    role: 'OPERATOR',
    document: `mutation($ids: [ID!]!) { reprocessDeadLetters(ids: $ids) }`,
    variables: () => ({ ids: [unknown('dlq')] }),
  },
  createSilence: {
    role: 'OPERATOR',
    document: `mutation($input: CreateSilenceInput!) { createSilence(input: $input) { id } }`,
    variables: () => ({ input: { streamId: fx.stream.id, endsAt: new Date(Date.now() + 3_600_000).toISOString(), reason: fresh('drill') } }),
  },
  endSilence: {
    role: 'OPERATOR',
    document: `mutation($id: ID!) { endSilence(id: $id) { id } }`,
    variables: () => ({ id: unknown('sil') }),
  },
  updateStream: {
    role: 'ADMIN',
    document: `mutation($id: ID!, $input: UpdateStreamInput!) { updateStream(id: $id, input: $input) { id description } }`,
    variables: () => ({ id: fx.stream.id, input: { description: fresh('about') } }),
  },
  updateSla: {
    role: 'ADMIN',
    document: `mutation($id: ID!, $input: UpdateSlaInput!) { updateSla(id: $id, input: $input) { id } }`,
    variables: () => ({ id: unknown('sla'), input: { threshold: 120 } }),
  },
  updateRunbook: {
    role: 'ADMIN',
    document: `mutation($id: ID!, $input: UpdateRunbookInput!) { updateRunbook(id: $id, input: $input) { id cooldownSeconds } }`,
    variables: () => ({ id: fx.runbookId, input: { cooldownSeconds: 300 } }),
  },
  // Archiving acts on unknown ids: archiving the shared fixtures would stop what the other cases use.
  ...archiveCases('Stream', 'str'),
  ...archiveCases('Detector', 'det'),
  ...archiveCases('Sla', 'sla'),
  ...archiveCases('Runbook', 'rbk'),
  createApiKey: {
    role: 'ADMIN',
    document: `mutation($name: String!, $role: Role!) { createApiKey(name: $name, role: $role) { secret apiKey { id } } }`,
    variables: () => ({ name: fresh('key'), role: 'VIEWER' }),
  },
  revokeApiKey: {
    role: 'ADMIN',
    document: `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`,
    variables: () => ({ id: fx.victimKeyId }),
  },
};

const schema = buildSchema();
/** Sorted, so the order of calls on the shared fixtures is fixed (pause before resume, acknowledge before resolve). */
const MUTATION_NAMES = Object.keys(schema.getMutationType()?.getFields() ?? {}).sort();

function caseOf(mutation: string): MutationCase {
  const entry = MATRIX[mutation];
  if (!entry) throw new Error(`the role matrix has no entry for the mutation "${mutation}": add one to MATRIX`);
  return entry;
}

describe('the role matrix', () => {
  it('has exactly one entry per mutation of the schema, each calling that mutation', () => {
    expect(MUTATION_NAMES.length).toBeGreaterThan(0);
    expect(Object.keys(MATRIX).sort()).toEqual([...MUTATION_NAMES].sort());
    for (const [name, entry] of Object.entries(MATRIX)) {
      const operation = parse(entry.document).definitions[0];
      const field = operation?.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet.selections[0] : undefined;
      expect(field?.kind === Kind.FIELD ? field.name.value : undefined, `MATRIX.${name} calls another field`).toBe(name);
    }
  });

  describe.each(MUTATION_NAMES)('%s', (mutation) => {
    /** A refused call writes nothing but one REFUSED audit entry naming the mutation. */
    async function expectRefused(secret: string | undefined, code: 'UNAUTHENTICATED' | 'FORBIDDEN', actor: string) {
      const entry = caseOf(mutation);
      const db = h.runtime.services.ports.db;
      const before = await snapshot();
      const seqBefore = await lastAuditSeq();

      const errors = await send(secret, entry.document, entry.variables());
      expect(codes(errors)).toEqual([code]);

      expect(await snapshot()).toEqual(before);
      const written = await db.auditEntry.findMany({
        // Callers without a valid key share actor names across concurrent tests: only this mutation's entries are theirs.
        where: { seq: { gt: seqBefore }, actor, action: mutation },
      });
      expect(written.map((w) => ({ action: w.action, outcome: w.outcome, code: (w.detail as { code?: string } | null)?.code }))).toEqual([
        { action: mutation, outcome: 'REFUSED', code },
      ]);
    }

    it('refuses a call without a key with UNAUTHENTICATED', async () => {
      await expectRefused(undefined, 'UNAUTHENTICATED', 'anonymous');
    });

    it('refuses a revoked key with UNAUTHENTICATED, and the audit entry names that key', async () => {
      await expectRefused(fx.revoked.secret, 'UNAUTHENTICATED', `revoked key (${fx.revoked.id})`);
    });

    it.each(ROLES)('as %s: FORBIDDEN below the required role, authorised at or above it', async (role) => {
      const entry = caseOf(mutation);
      const key = fx.keys[role];
      if (RANK[role] < RANK[entry.role]) {
        await expectRefused(key.secret, 'FORBIDDEN', key.actor);
        return;
      }
      const seqBefore = await lastAuditSeq();
      const errors = await send(key.secret, entry.document, entry.variables());
      expect(codes(errors)).not.toContain('UNAUTHENTICATED');
      expect(codes(errors)).not.toContain('FORBIDDEN');
      // Authorised calls are audited too, as ALLOWED or (bad input, not found, not available) FAILED.
      const written = await h.runtime.services.ports.db.auditEntry.findMany({ where: { seq: { gt: seqBefore }, actor: key.actor } });
      expect(written.map((w) => ({ action: w.action, outcome: w.outcome }))).toEqual([
        { action: mutation, outcome: errors.length === 0 ? 'ALLOWED' : 'FAILED' },
      ]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Queries

/** A literal for a required argument of type `type`: only its shape matters, the call is refused first. */
function literalFor(type: GraphQLInputType): string {
  const inner = getNullableType(type);
  if (isListType(inner)) return `[${literalFor(inner.ofType)}]`;
  if (isEnumType(inner)) return inner.getValues()[0]!.name;
  if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${fields.map((f) => `${f.name}: ${literalFor(f.type)}`).join(', ')} }`;
  }
  if (isScalarType(inner)) {
    switch (inner.name) {
      case 'Int':
      case 'Float':
        return '1';
      case 'Boolean':
        return 'true';
      case 'DateTime':
        return '"2026-01-01T00:00:00.000Z"';
      case 'JSON':
        return '{}';
      default:
        return '"str_unknown"';
    }
  }
  throw new Error(`no literal for ${String(type)}`);
}

function queryOf(field: GraphQLField<unknown, unknown>): string {
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const args = required.length ? `(${required.map((a) => `${a.name}: ${literalFor(a.type)}`).join(', ')})` : '';
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `{ ${field.name}${args}${selection} }`;
}

const QUERY_FIELDS = Object.values(schema.getQueryType()?.getFields() ?? {});

describe('queries', () => {
  it('are there to check', () => {
    expect(QUERY_FIELDS.map((f) => f.name)).toEqual(expect.arrayContaining(['viewer', 'streams', 'auditLog', 'apiKeys', 'node']));
  });

  it.each(QUERY_FIELDS.map((f) => [f.name, f] as const))('%s refuses a call without a key with UNAUTHENTICATED', async (_name, field) => {
    const errors = await send(undefined, queryOf(field));
    expect(codes(errors)).toEqual(['UNAUTHENTICATED']);
  });

  it.each(QUERY_FIELDS.map((f) => [f.name, f] as const))('%s refuses a revoked key with UNAUTHENTICATED', async (_name, field) => {
    const errors = await send(fx.revoked.secret, queryOf(field));
    expect(codes(errors)).toEqual(['UNAUTHENTICATED']);
  });

  it('answers the same queries with a VIEWER key (so the refusals above are about the key)', async () => {
    for (const field of QUERY_FIELDS) {
      const errors = await send(fx.keys.VIEWER.secret, queryOf(field));
      expect(codes(errors), field.name).not.toContain('UNAUTHENTICATED');
    }
  });

  it('keep the keys and the audit log to ADMIN: VIEWER and OPERATOR get FORBIDDEN', async () => {
    for (const role of ['VIEWER', 'OPERATOR'] as const) {
      const secret = fx.keys[role].secret;
      expect(codes(await send(secret, `{ apiKeys { id } }`)), role).toEqual(['FORBIDDEN']);
      expect(codes(await send(secret, `{ auditLog(first: 1) { edges { node { id } } } }`)), role).toEqual(['FORBIDDEN']);
    }
  });

  it('do not let node() read a key or an audit entry below ADMIN', async () => {
    const entry = await h.runtime.services.ports.db.auditEntry.findFirstOrThrow({ orderBy: { seq: 'desc' } });
    const query = `query($id: ID!) { node(id: $id) { id } }`;
    for (const id of [fx.victimKeyId, entry.id]) {
      const asViewer = await h.client(fx.keys.VIEWER.secret).request<{ node: unknown }>(query, { id });
      expect(asViewer.node).toBeNull();
      const asAdmin = await h.client(fx.keys.ADMIN.secret).request<{ node: { id: string } | null }>(query, { id });
      expect(asAdmin.node).toEqual({ id });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// API keys

const CREATE_KEY = `mutation($name: String!, $role: Role!) {
  createApiKey(name: $name, role: $role) { secret apiKey { id name role createdAt revokedAt } }
}`;
const VIEWER = `{ viewer { role apiKey { id name role } } }`;

describe('API keys', () => {
  it('createApiKey shows the secret once; the key works; apiKeys lists it without a secret; revokeApiKey stops it at once', async () => {
    const name = fresh('lifecycle');
    const { createApiKey } = await h.client(fx.keys.ADMIN.secret).request<{
      createApiKey: { secret: string; apiKey: { id: string; name: string; role: string; revokedAt: string | null } };
    }>(CREATE_KEY, { name, role: 'OPERATOR' });
    const { secret, apiKey } = createApiKey;
    expect(secret).toMatch(/^\S{32,}$/);
    expect(apiKey).toMatchObject({ name, role: 'OPERATOR', revokedAt: null });

    // Only a hash is stored.
    const row = await h.runtime.services.ports.db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.secretHash).toBe(hashSecret(secret));
    expect(JSON.stringify(row)).not.toContain(secret);

    // The key works, as what it was created as.
    const viewer = await h.client(secret).request<{ viewer: { role: string; apiKey: { id: string; name: string } } }>(VIEWER);
    expect(viewer.viewer).toEqual({ role: 'OPERATOR', apiKey: { id: apiKey.id, name, role: 'OPERATOR' } });

    // Listed, without any secret: the type has no such field and the answer holds neither the secret nor its hash.
    const apiKeyType = schema.getType('ApiKey');
    const apiKeyFields = isObjectType(apiKeyType) ? Object.keys(apiKeyType.getFields()) : [];
    expect(apiKeyFields).toEqual(expect.arrayContaining(['id', 'name', 'role']));
    expect(apiKeyFields.filter((f) => /secret|hash/i.test(f))).toEqual([]);
    const listed = await h.client(fx.keys.ADMIN.secret).request<{ apiKeys: { id: string; name: string; role: string; revokedAt: string | null }[] }>(
      `{ apiKeys { id name role createdAt lastUsedAt revokedAt } }`,
    );
    expect(listed.apiKeys.find((k) => k.id === apiKey.id)).toMatchObject({ id: apiKey.id, name, role: 'OPERATOR', revokedAt: null });
    const serialised = JSON.stringify(listed);
    expect(serialised).not.toContain(secret);
    expect(serialised).not.toContain(row.secretHash);
    const [askForSecret] = await graphqlErrors(h.client(fx.keys.ADMIN.secret).request(`{ apiKeys { id secret } }`));
    expect(askForSecret?.extensions.code).toBe('BAD_USER_INPUT');

    // Revoked: the very next request with it is refused.
    const { revokeApiKey } = await h.client(fx.keys.ADMIN.secret).request<{ revokeApiKey: { id: string; revokedAt: string | null } }>(
      `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`,
      { id: apiKey.id },
    );
    expect(revokeApiKey.id).toBe(apiKey.id);
    expect(revokeApiKey.revokedAt).not.toBeNull();
    const [refused] = await graphqlErrors(h.client(secret).request(VIEWER));
    expect(refused?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it.each(ROLES)('viewer returns the role of a %s key', async (role) => {
    const key = fx.keys[role];
    const { viewer } = await h.client(key.secret).request<{ viewer: { role: string; apiKey: { id: string } } }>(VIEWER);
    expect(viewer.role).toBe(role);
    expect(viewer.apiKey.id).toBe(key.id);
  });

  it('viewer describes the configured admin secret as ADMIN', async () => {
    const { viewer } = await h.admin.request<{ viewer: { role: string } }>(VIEWER);
    expect(viewer.role).toBe('ADMIN');
  });

  it('refuses a key that was never issued with UNAUTHENTICATED', async () => {
    const [error] = await graphqlErrors(h.client(`vgl_${PREFIX}-never-issued`).request(VIEWER));
    expect(error?.extensions.code).toBe('UNAUTHENTICATED');
  });
});

// ---------------------------------------------------------------------------------------------
// The audit log

interface AuditNode {
  id: string;
  action: string;
  actor: string;
  target: string;
  outcome: string;
  hash: string;
}

describe('the audit log', () => {
  it('shows an allowed and a refused mutation with their outcome, and its chain verifies', async () => {
    // Entries are ordered by time-ordered id: start the walk just before this test instead of at the first entry ever.
    const after = encodeCursor(newId('AuditEntry', Date.now() - 1000));

    const allowedName = fresh('audit-allowed');
    const { createApiKey } = await h.client(fx.keys.ADMIN.secret).request<{ createApiKey: { apiKey: { id: string } } }>(CREATE_KEY, {
      name: allowedName,
      role: 'VIEWER',
    });
    const refusedName = fresh('audit-refused');
    const [refused] = await graphqlErrors(h.client(fx.keys.OPERATOR.secret).request(CREATE_KEY, { name: refusedName, role: 'ADMIN' }));
    expect(refused?.extensions.code).toBe('FORBIDDEN');

    const seen: AuditNode[] = [];
    let cursor: string | null = after;
    for (let page = 0; page < 100; page++) {
      const result: { auditLog: { edges: { node: AuditNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
        await h.client(fx.keys.ADMIN.secret).request(
          `query($after: String) { auditLog(first: 100, after: $after, orderBy: OLDEST_FIRST) { edges { node { id action actor target outcome hash } } pageInfo { hasNextPage endCursor } } }`,
          { after: cursor },
        );
      seen.push(...result.auditLog.edges.map((e) => e.node));
      if (!result.auditLog.pageInfo.hasNextPage) break;
      cursor = result.auditLog.pageInfo.endCursor;
    }
    // The entry names the new key by its name (or its id): createApiKey's result has no id of its own.
    const allowed = seen.filter((e) => e.target === allowedName || e.target === createApiKey.apiKey.id);
    expect(allowed).toMatchObject([{ action: 'createApiKey', actor: fx.keys.ADMIN.actor, outcome: 'ALLOWED' }]);
    const refusals = seen.filter((e) => e.target === refusedName);
    expect(refusals).toMatchObject([{ action: 'createApiKey', actor: fx.keys.OPERATOR.actor, outcome: 'REFUSED' }]);
    expect(refusals[0]?.hash).toMatch(/^[0-9a-f]{64}$/);

    const verification = await h.runtime.services.audit.verify();
    expect(verification).toMatchObject({ ok: true });
    expect(verification.checked).toBeGreaterThan(0);
  });

  it('is not readable by VIEWER', async () => {
    const [error] = await graphqlErrors(h.client(fx.keys.VIEWER.secret).request(`{ auditLog(first: 5) { edges { node { id } } } }`));
    expect(error?.extensions.code).toBe('FORBIDDEN');
  });
});
