import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

let h: Harness;
/** A stream with a detector, which runbooks trigger on, and a second stream with its own detector. */
let stream: { id: string; name: string };
let detectorId: string;
let otherStream: { id: string; name: string };
let otherDetectorId: string;

const REGISTER_DETECTOR = /* GraphQL */ `
  mutation RegisterDetector($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }
`;

async function registerDetector(streamId: string): Promise<string> {
  const { registerDetector } = await h.admin.request<{ registerDetector: { id: string } }>(REGISTER_DETECTOR, {
    input: { streamId, name: uniqueName('det'), field: 'latency_ms', kind: 'ZSCORE' },
  });
  return registerDetector.id;
}

beforeAll(async () => {
  h = await startHarness();
  stream = await registerLatencyStream(h);
  otherStream = await registerLatencyStream(h);
  detectorId = await registerDetector(stream.id);
  otherDetectorId = await registerDetector(otherStream.id);
});
afterAll(async () => {
  await h?.close();
});

const SLA_FIELDS = /* GraphQL */ `id name objective threshold windowSeconds severity stream { id } state { met current evaluatedAt }`;

interface SlaView {
  id: string;
  name: string;
  objective: string;
  threshold: number;
  windowSeconds: number;
  severity: string;
  stream: { id: string };
  state: { met: boolean; current: number | null; evaluatedAt: string | null };
}

const REGISTER_SLA = /* GraphQL */ `
  mutation RegisterSla($input: RegisterSlaInput!) { registerSla(input: $input) { ${SLA_FIELDS} } }
`;

function slaInput(overrides: Record<string, unknown> = {}) {
  return { streamId: stream.id, name: uniqueName('sla'), objective: 'ERROR_RATE', threshold: 0.05, windowSeconds: 300, ...overrides };
}

const slaCount = (streamId: string) => h.runtime.services.ports.db.sla.count({ where: { streamId } });
const slasNamed = (name: string) => h.runtime.services.ports.db.sla.count({ where: { name } });

describe('registerSla', () => {
  it('registers an SLA that is met until first evaluated', async () => {
    const input = slaInput();
    const { registerSla } = await h.admin.request<{ registerSla: SlaView }>(REGISTER_SLA, { input });
    expect(registerSla).toEqual({
      id: expect.stringMatching(/^sla_/),
      name: input.name,
      objective: 'ERROR_RATE',
      threshold: 0.05,
      windowSeconds: 300,
      severity: 'WARNING',
      stream: { id: stream.id },
      state: { met: true, current: null, evaluatedAt: null },
    });
    const row = await h.runtime.services.ports.db.sla.findUniqueOrThrow({ where: { id: registerSla.id } });
    expect(row).toMatchObject({ streamId: stream.id, name: input.name, objective: 'ERROR_RATE', threshold: 0.05, windowSeconds: 300 });
  });

  it('accepts a threshold above 1 for an objective that is not a fraction, and the given severity', async () => {
    const { registerSla } = await h.admin.request<{ registerSla: SlaView }>(REGISTER_SLA, {
      input: slaInput({ objective: 'FRESHNESS', threshold: 120, severity: 'CRITICAL' }),
    });
    expect(registerSla).toMatchObject({ objective: 'FRESHNESS', threshold: 120, severity: 'CRITICAL' });
  });

  it.each([
    ['an unknown stream id', 'NOT_FOUND', 'input.streamId', { streamId: 'str_unknown' }],
    ['a negative threshold', 'BAD_USER_INPUT', 'input.threshold', { objective: 'INGESTION_LAG', threshold: -1 }],
    ['an ERROR_RATE threshold of 2', 'BAD_USER_INPUT', 'input.threshold', { objective: 'ERROR_RATE', threshold: 2 }],
    ['a COMPLETENESS threshold above 1', 'BAD_USER_INPUT', 'input.threshold', { objective: 'COMPLETENESS', threshold: 1.5 }],
    ['a window of 0 seconds', 'BAD_USER_INPUT', 'input.windowSeconds', { windowSeconds: 0 }],
    ['a window longer than 30 days', 'BAD_USER_INPUT', 'input.windowSeconds', { windowSeconds: 30 * 24 * 3600 + 1 }],
  ])('refuses %s with %s at %s, and writes nothing', async (_label, code, field, overrides) => {
    const before = await slaCount(stream.id);
    const input = slaInput(overrides);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_SLA, { input }));
    expect(error?.extensions).toMatchObject({ code, field });
    expect(await slaCount(stream.id)).toBe(before);
    expect(await slasNamed(input.name)).toBe(0);
  });

  it('refuses a blank name with BAD_USER_INPUT, and writes nothing', async () => {
    const before = await slaCount(stream.id);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_SLA, { input: slaInput({ name: '   ' }) }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(await slaCount(stream.id)).toBe(before);
  });

  it('refuses a duplicate name in the same stream with CONFLICT, and writes nothing', async () => {
    const input = slaInput();
    await h.admin.request(REGISTER_SLA, { input });
    const before = await slaCount(stream.id);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_SLA, { input: slaInput({ name: input.name, objective: 'FRESHNESS', threshold: 60 }) }));
    expect(error?.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
    expect(await slaCount(stream.id)).toBe(before);
    expect(await slasNamed(input.name)).toBe(1);
  });
});

describe('SLA queries', () => {
  it("slas(streamId) and Stream.slas list the stream's SLAs, and node(id) resolves one", async () => {
    const own = await registerLatencyStream(h);
    const registered: SlaView[] = [];
    for (const objective of ['FRESHNESS', 'ANOMALY_RATE']) {
      const { registerSla } = await h.admin.request<{ registerSla: SlaView }>(REGISTER_SLA, {
        input: slaInput({ streamId: own.id, objective, threshold: 0.5 }),
      });
      registered.push(registerSla);
    }
    const { slas } = await h.admin.request<{ slas: SlaView[] }>(`query($id: ID) { slas(streamId: $id) { ${SLA_FIELDS} } }`, { id: own.id });
    expect(slas).toEqual(registered);

    const { stream: viaStream } = await h.admin.request<{ stream: { slas: { id: string }[] } }>(
      `query($id: ID) { stream(id: $id) { slas { id } } }`,
      { id: own.id },
    );
    expect(viaStream.slas.map((s) => s.id)).toEqual(registered.map((s) => s.id));

    const { node } = await h.admin.request<{ node: { __typename: string; id: string; name: string } }>(
      `query($id: ID!) { node(id: $id) { __typename id ... on Sla { name } } }`,
      { id: registered[0]!.id },
    );
    expect(node).toEqual({ __typename: 'Sla', id: registered[0]!.id, name: registered[0]!.name });
  });
});

const RUNBOOK_FIELDS = /* GraphQL */ `
  id name requiresApproval cooldownSeconds
  trigger { minSeverity stream { id name } detector { id stream { id } } }
  steps { action params }
`;

interface RunbookView {
  id: string;
  name: string;
  requiresApproval: boolean;
  cooldownSeconds: number;
  trigger: { minSeverity: string; stream: { id: string; name: string } | null; detector: { id: string; stream: { id: string } } | null };
  steps: { action: string; params: Record<string, unknown> }[];
}

const REGISTER_RUNBOOK = /* GraphQL */ `
  mutation RegisterRunbook($input: RegisterRunbookInput!) { registerRunbook(input: $input) { ${RUNBOOK_FIELDS} } }
`;

const WEBHOOK_URL = 'https://hooks.example.com/vigil';

function runbookInput(overrides: Record<string, unknown> = {}) {
  return {
    name: uniqueName('rbk'),
    trigger: { streamId: stream.id, detectorId },
    steps: [{ action: 'WEBHOOK', params: { url: WEBHOOK_URL } }, { action: 'NOTIFY' }],
    ...overrides,
  };
}

/** Rows named as given or as trimmed (the service trims names). */
const runbooksNamed = (name: string) => h.runtime.services.ports.db.runbook.count({ where: { name: { in: [name, name.trim()] } } });

describe('registerRunbook', () => {
  it('registers a runbook with its steps completed with defaults, and its trigger resolved', async () => {
    const input = runbookInput();
    const { registerRunbook } = await h.admin.request<{ registerRunbook: RunbookView }>(REGISTER_RUNBOOK, { input });
    expect(registerRunbook).toEqual({
      id: expect.stringMatching(/^rbk_/),
      name: input.name,
      requiresApproval: false,
      cooldownSeconds: 300,
      trigger: {
        minSeverity: 'WARNING',
        stream: { id: stream.id, name: stream.name },
        detector: { id: detectorId, stream: { id: stream.id } },
      },
      steps: [
        { action: 'WEBHOOK', params: { url: WEBHOOK_URL, timeoutMs: 5000, maxAttempts: 5 } },
        { action: 'NOTIFY', params: { maxAttempts: 3 } },
      ],
    });
    const row = await h.runtime.services.ports.db.runbook.findUniqueOrThrow({ where: { id: registerRunbook.id } });
    expect(row).toMatchObject({ triggerStreamId: stream.id, triggerDetectorId: detectorId, minSeverity: 'WARNING', cooldownSeconds: 300 });
    expect(row.steps).toEqual(registerRunbook.steps);
  });

  it('keeps the given settings: approval, cooldown, severity and step params', async () => {
    const input = runbookInput({
      trigger: { streamId: stream.id, minSeverity: 'CRITICAL' },
      steps: [
        { action: 'SCALE', params: { target: 'deploy/ingest', replicas: 4 } },
        { action: 'NOTIFY', params: { message: 'scaled ingest', verifyWithinSeconds: 600 } },
      ],
      requiresApproval: true,
      cooldownSeconds: 0,
    });
    const { registerRunbook } = await h.admin.request<{ registerRunbook: RunbookView }>(REGISTER_RUNBOOK, { input });
    expect(registerRunbook).toMatchObject({
      requiresApproval: true,
      cooldownSeconds: 0,
      trigger: { minSeverity: 'CRITICAL', stream: { id: stream.id }, detector: null },
      steps: [
        { action: 'SCALE', params: { target: 'deploy/ingest', replicas: 4, maxAttempts: 3 } },
        { action: 'NOTIFY', params: { message: 'scaled ingest', maxAttempts: 3, verifyWithinSeconds: 600 } },
      ],
    });
  });

  it('stores a webhook secret and header values for the runner but never shows them', async () => {
    const input = runbookInput({
      steps: [{ action: 'WEBHOOK', params: { url: WEBHOOK_URL, secret: 's3cret', headers: { Authorization: 'Bearer t0ken' } } }],
    });
    const { registerRunbook } = await h.admin.request<{ registerRunbook: RunbookView }>(REGISTER_RUNBOOK, { input });
    expect(registerRunbook.steps[0]?.params).toMatchObject({ secret: '[redacted]', headers: { Authorization: '[redacted]' } });
    expect(JSON.stringify(registerRunbook)).not.toMatch(/s3cret|t0ken/);
    const row = await h.runtime.services.ports.db.runbook.findUniqueOrThrow({ where: { id: registerRunbook.id } });
    expect((row.steps as { params: Record<string, unknown> }[])[0]?.params).toMatchObject({
      secret: 's3cret',
      headers: { Authorization: 'Bearer t0ken' },
    });
  });

  it.each([
    ['a WEBHOOK without url', 'BAD_USER_INPUT', 'input.steps[0].params.url', { steps: [{ action: 'WEBHOOK' }] }],
    ['a WEBHOOK with an ftp:// url', 'BAD_USER_INPUT', 'input.steps[0].params.url', { steps: [{ action: 'WEBHOOK', params: { url: 'ftp://files.example.com/x' } }] }],
    ['a WEBHOOK with a misspelled setting', 'BAD_USER_INPUT', 'input.steps[0].params.timeoutMS', { steps: [{ action: 'WEBHOOK', params: { url: WEBHOOK_URL, timeoutMS: 100 } }] }],
    ['a SCALE without replicas', 'BAD_USER_INPUT', 'input.steps[1].params.replicas', { steps: [{ action: 'NOTIFY' }, { action: 'SCALE', params: { target: 'deploy/ingest' } }] }],
    ['a REPLAY from a time without a zone', 'BAD_USER_INPUT', 'input.steps[0].params.fromTimestamp', { steps: [{ action: 'REPLAY', params: { fromTimestamp: '2024-05-01T12:00:00' } }] }],
    ['a PAUSE_STREAM of an unknown stream', 'NOT_FOUND', 'input.steps[0].params.streamId', { steps: [{ action: 'PAUSE_STREAM', params: { streamId: 'str_unknown' } }] }],
    ['an unknown trigger stream', 'NOT_FOUND', 'input.trigger.streamId', { trigger: { streamId: 'str_unknown' } }],
    ['an unknown trigger detector', 'NOT_FOUND', 'input.trigger.detectorId', { trigger: { detectorId: 'det_unknown' } }],
    ['no steps', 'BAD_USER_INPUT', 'input.steps', { steps: [] }],
    ['a negative cooldown', 'BAD_USER_INPUT', 'input.cooldownSeconds', { cooldownSeconds: -1 }],
    ['a blank name', 'BAD_USER_INPUT', 'input.name', { name: '  ' }],
  ])('refuses %s with %s at %s, and writes nothing', async (_label, code, field, overrides) => {
    const input = runbookInput(overrides);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_RUNBOOK, { input }));
    expect(error?.extensions).toMatchObject({ code, field });
    expect(await runbooksNamed(input.name)).toBe(0);
  });

  it('refuses a trigger detector from another stream than the trigger stream, and writes nothing', async () => {
    const input = runbookInput({ trigger: { streamId: stream.id, detectorId: otherDetectorId } });
    const [error] = await graphqlErrors(h.admin.request(REGISTER_RUNBOOK, { input }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.trigger.detectorId' });
    expect(await runbooksNamed(input.name)).toBe(0);
  });

  it('refuses a duplicate name with CONFLICT, and keeps the first runbook', async () => {
    const input = runbookInput();
    const { registerRunbook: first } = await h.admin.request<{ registerRunbook: RunbookView }>(REGISTER_RUNBOOK, { input });
    const [error] = await graphqlErrors(
      h.admin.request(REGISTER_RUNBOOK, { input: runbookInput({ name: input.name, trigger: { streamId: otherStream.id } }) }),
    );
    expect(error?.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
    const rows = await h.runtime.services.ports.db.runbook.findMany({ where: { name: input.name } });
    expect(rows.map((r) => [r.id, r.triggerStreamId])).toEqual([[first.id, stream.id]]);
  });
});

describe('runbook queries', () => {
  it('runbooks lists a registered runbook, and node(id) resolves it', async () => {
    const { registerRunbook } = await h.admin.request<{ registerRunbook: RunbookView }>(REGISTER_RUNBOOK, { input: runbookInput() });
    const { runbooks } = await h.admin.request<{ runbooks: RunbookView[] }>(`query { runbooks { ${RUNBOOK_FIELDS} } }`);
    expect(runbooks.find((r) => r.id === registerRunbook.id)).toEqual(registerRunbook);

    const { node } = await h.admin.request<{ node: { __typename: string; id: string; name: string } }>(
      `query($id: ID!) { node(id: $id) { __typename id ... on Runbook { name } } }`,
      { id: registerRunbook.id },
    );
    expect(node).toEqual({ __typename: 'Runbook', id: registerRunbook.id, name: registerRunbook.name });
  });
});
