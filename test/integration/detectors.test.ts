import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What every test reads back of a detector. */
const DETECTOR_FIELDS = /* GraphQL */ `
  id name field kind params mode severity version drifting
  stream { id }
  stats { anomalies truePositives falsePositives precision }
  versions { version kind params mode createdBy }
`;

interface DetectorVersionView {
  version: number;
  kind: string;
  params: Record<string, unknown>;
  mode: string;
  createdBy: string;
}

interface DetectorView {
  id: string;
  name: string;
  field: string;
  kind: string;
  params: Record<string, unknown>;
  mode: string;
  severity: string;
  version: number;
  drifting: boolean;
  stream: { id: string };
  stats: { anomalies: number; truePositives: number; falsePositives: number; precision: number | null };
  versions: DetectorVersionView[];
}

const REGISTER_DETECTOR = /* GraphQL */ `
  mutation RegisterDetector($input: RegisterDetectorInput!) { registerDetector(input: $input) { ${DETECTOR_FIELDS} } }
`;
const UPDATE_DETECTOR = /* GraphQL */ `
  mutation UpdateDetector($id: ID!, $input: UpdateDetectorInput!) { updateDetector(id: $id, input: $input) { ${DETECTOR_FIELDS} } }
`;
const ROLLBACK_DETECTOR = /* GraphQL */ `
  mutation RollbackDetector($id: ID!, $version: Int!) { rollbackDetector(id: $id, version: $version) { ${DETECTOR_FIELDS} } }
`;

/** The actor the configured admin key is recorded as (`createdBy`). */
const ADMIN_ACTOR = 'admin';

const ZSCORE_DEFAULTS = { window: 300, threshold: 4, warmup: 30, direction: 'BOTH' };
const MAD_DEFAULTS = { window: 300, threshold: 5, warmup: 30, direction: 'BOTH' };
const EWMA_DEFAULTS = { alpha: 0.05, threshold: 4, warmup: 30, direction: 'BOTH' };
const SEASONAL_DEFAULTS = { period: 24, alpha: 0.2, beta: 0.01, gamma: 0.1, threshold: 4, warmup: 48, direction: 'BOTH' };

function detectorInput(streamId: string, overrides: Record<string, unknown> = {}) {
  return { streamId, name: uniqueName('det'), field: 'latency_ms', kind: 'ZSCORE', ...overrides };
}

async function registerDetector(streamId: string, overrides: Record<string, unknown> = {}): Promise<DetectorView> {
  const { registerDetector } = await h.admin.request<{ registerDetector: DetectorView }>(REGISTER_DETECTOR, {
    input: detectorInput(streamId, overrides),
  });
  return registerDetector;
}

const detectorCount = (streamId: string) => h.runtime.services.ports.db.detector.count({ where: { streamId } });
const detectorsNamed = (name: string) => h.runtime.services.ports.db.detector.count({ where: { name } });
const storedVersions = (detectorId: string) =>
  h.runtime.services.ports.db.detectorVersion.findMany({ where: { detectorId }, orderBy: { version: 'asc' } });

describe('registerDetector', () => {
  let streamId: string;
  beforeAll(async () => {
    streamId = (await registerLatencyStream(h)).id;
  });

  it.each([
    ['ZSCORE', undefined, ZSCORE_DEFAULTS],
    ['MAD', {}, MAD_DEFAULTS],
    ['EWMA', {}, EWMA_DEFAULTS],
    ['SEASONAL', {}, SEASONAL_DEFAULTS],
    ['THRESHOLD', { max: 500 }, { min: null, max: 500 }],
    ['FRESHNESS', { maxGapSeconds: 60 }, { maxGapSeconds: 60 }],
    [
      'ENSEMBLE',
      { members: [{ kind: 'ZSCORE' }, { kind: 'MAD', params: { warmup: 50 }, weight: 2 }] },
      {
        members: [
          { kind: 'ZSCORE', params: ZSCORE_DEFAULTS, weight: 1 },
          { kind: 'MAD', params: { ...MAD_DEFAULTS, warmup: 50 }, weight: 2 },
        ],
        combine: 'WEIGHTED',
        threshold: 0.5,
        warmup: 50,
      },
    ],
  ])('registers a %s detector stating every setting, as version 1', async (kind, params, expected) => {
    const input = detectorInput(streamId, { kind, params });
    const { registerDetector } = await h.admin.request<{ registerDetector: DetectorView }>(REGISTER_DETECTOR, { input });
    expect(registerDetector).toMatchObject({
      name: input.name,
      field: 'latency_ms',
      kind,
      mode: 'ACTIVE',
      severity: 'WARNING',
      version: 1,
      drifting: false,
      stream: { id: streamId },
      stats: { anomalies: 0, truePositives: 0, falsePositives: 0, precision: null },
    });
    expect(registerDetector.id).toMatch(/^det_/);
    expect(registerDetector.params).toEqual(expected);
    expect(registerDetector.versions).toEqual([{ version: 1, kind, params: expected, mode: 'ACTIVE', createdBy: ADMIN_ACTOR }]);

    const stored = await storedVersions(registerDetector.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ version: 1, kind, params: expected, mode: 'ACTIVE', severity: 'WARNING' });
  });

  it('keeps the given mode, severity and settings', async () => {
    const detector = await registerDetector(streamId, {
      field: 'errors',
      kind: 'ZSCORE',
      params: { window: 60, direction: 'UP' },
      mode: 'SHADOW',
      severity: 'CRITICAL',
    });
    expect(detector).toMatchObject({
      field: 'errors',
      mode: 'SHADOW',
      severity: 'CRITICAL',
      params: { ...ZSCORE_DEFAULTS, window: 60, direction: 'UP' },
    });
  });

  it.each([
    ['ZSCORE window 0', 'ZSCORE', { window: 0 }, 'input.params.window'],
    ['ZSCORE window that is not an integer', 'ZSCORE', { window: 30.5 }, 'input.params.window'],
    ['a misspelled ZSCORE setting', 'ZSCORE', { windw: 60 }, 'input.params.windw'],
    ['an unknown direction', 'ZSCORE', { direction: 'SIDEWAYS' }, 'input.params.direction'],
    ['params that are not an object', 'ZSCORE', [60], 'input.params'],
    ['MAD threshold 0', 'MAD', { threshold: 0 }, 'input.params.threshold'],
    ['EWMA alpha above 1', 'EWMA', { alpha: 1.5 }, 'input.params.alpha'],
    ['SEASONAL warmup shorter than the period', 'SEASONAL', { period: 24, warmup: 10 }, 'input.params.warmup'],
    ['THRESHOLD without min and max', 'THRESHOLD', {}, 'input.params'],
    ['THRESHOLD with min above max', 'THRESHOLD', { min: 10, max: 5 }, 'input.params.min'],
    ['FRESHNESS without maxGapSeconds', 'FRESHNESS', {}, 'input.params.maxGapSeconds'],
    ['FRESHNESS with a negative gap', 'FRESHNESS', { maxGapSeconds: -1 }, 'input.params.maxGapSeconds'],
    ['ENSEMBLE without members', 'ENSEMBLE', {}, 'input.params.members'],
    ['ENSEMBLE with an empty member list', 'ENSEMBLE', { members: [] }, 'input.params.members'],
    ['ENSEMBLE member with a bad param', 'ENSEMBLE', { members: [{ kind: 'ZSCORE', params: { window: 0 } }] }, 'input.params.members[0].params.window'],
    ['ENSEMBLE member of kind FRESHNESS', 'ENSEMBLE', { members: [{ kind: 'MAD' }, { kind: 'FRESHNESS' }] }, 'input.params.members[1].kind'],
    ['ENSEMBLE member with weight 0', 'ENSEMBLE', { members: [{ kind: 'MAD', weight: 0 }] }, 'input.params.members[0].weight'],
  ])('refuses %s with BAD_USER_INPUT naming the setting, and writes nothing', async (_label, kind, params, field) => {
    const before = await detectorCount(streamId);
    const input = detectorInput(streamId, { kind, params });
    const [error] = await graphqlErrors(h.admin.request(REGISTER_DETECTOR, { input }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await detectorCount(streamId)).toBe(before);
    expect(await detectorsNamed(input.name)).toBe(0);
  });

  it.each([
    ['an unknown stream id', 'NOT_FOUND', 'input.streamId', { streamId: 'str_unknown' }],
    ['a field that is not a value field of the stream', 'BAD_USER_INPUT', 'input.field', { field: 'host' }],
    ['a field the stream does not have', 'BAD_USER_INPUT', 'input.field', { field: 'cpu' }],
    ['a name with forbidden characters', 'BAD_USER_INPUT', 'input.name', { name: 'bad/name' }],
  ])('refuses %s with %s at %s, and writes nothing', async (_label, code, field, overrides) => {
    const before = await detectorCount(streamId);
    const input = detectorInput(streamId, overrides);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_DETECTOR, { input }));
    expect(error?.extensions).toMatchObject({ code, field });
    expect(await detectorCount(streamId)).toBe(before);
    expect(await detectorsNamed(input.name)).toBe(0);
  });

  it('refuses a duplicate name in the same stream with CONFLICT, but accepts it in another stream', async () => {
    const first = await registerDetector(streamId);
    const before = await detectorCount(streamId);
    const [error] = await graphqlErrors(
      h.admin.request(REGISTER_DETECTOR, { input: detectorInput(streamId, { name: first.name, kind: 'MAD' }) }),
    );
    expect(error?.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
    expect(await detectorCount(streamId)).toBe(before);
    expect((await storedVersions(first.id)).map((v) => v.kind)).toEqual(['ZSCORE']);

    const other = await registerLatencyStream(h);
    const twin = await registerDetector(other.id, { name: first.name });
    expect(twin.stream.id).toBe(other.id);
  });
});

describe('updateDetector', () => {
  let streamId: string;
  beforeAll(async () => {
    streamId = (await registerLatencyStream(h)).id;
  });

  it('writes version 2 from the current settings and the given ones, keeping version 1 unchanged', async () => {
    const v1Params = { ...ZSCORE_DEFAULTS, window: 60 };
    const detector = await registerDetector(streamId, { params: { window: 60 }, mode: 'SHADOW' });
    const { updateDetector } = await h.admin.request<{ updateDetector: DetectorView }>(UPDATE_DETECTOR, {
      id: detector.id,
      input: { params: { window: 60, threshold: 3 }, severity: 'CRITICAL' },
    });
    const v2Params = { ...v1Params, threshold: 3 };
    expect(updateDetector).toMatchObject({
      id: detector.id,
      name: detector.name,
      kind: 'ZSCORE',
      version: 2,
      params: v2Params,
      // Not given: kept from version 1.
      mode: 'SHADOW',
      severity: 'CRITICAL',
    });
    expect(updateDetector.versions).toEqual([
      { version: 1, kind: 'ZSCORE', params: v1Params, mode: 'SHADOW', createdBy: ADMIN_ACTOR },
      { version: 2, kind: 'ZSCORE', params: v2Params, mode: 'SHADOW', createdBy: ADMIN_ACTOR },
    ]);
    const stored = await storedVersions(detector.id);
    expect(stored.map((v) => [v.version, v.severity])).toEqual([
      [1, 'WARNING'],
      [2, 'CRITICAL'],
    ]);
  });

  it('keeps the current settings when only the mode changes', async () => {
    const detector = await registerDetector(streamId, { kind: 'EWMA', params: { alpha: 0.3 } });
    const { updateDetector } = await h.admin.request<{ updateDetector: DetectorView }>(UPDATE_DETECTOR, {
      id: detector.id,
      input: { mode: 'DISABLED' },
    });
    expect(updateDetector).toMatchObject({ version: 2, kind: 'EWMA', mode: 'DISABLED', severity: 'WARNING', params: { ...EWMA_DEFAULTS, alpha: 0.3 } });
  });

  it("starts from the new kind's defaults when the kind changes without params", async () => {
    const detector = await registerDetector(streamId, { params: { window: 60, threshold: 6 } });
    const { updateDetector } = await h.admin.request<{ updateDetector: DetectorView }>(UPDATE_DETECTOR, {
      id: detector.id,
      input: { kind: 'MAD' },
    });
    expect(updateDetector).toMatchObject({ version: 2, kind: 'MAD', params: MAD_DEFAULTS });
    expect(updateDetector.versions.map((v) => v.kind)).toEqual(['ZSCORE', 'MAD']);
    expect(updateDetector.versions[0]?.params).toEqual({ ...ZSCORE_DEFAULTS, window: 60, threshold: 6 });
  });

  it.each([
    ['an empty input', {}, 'input'],
    ['bad params for the kind', { params: { window: 0 } }, 'input.params.window'],
    ['a misspelled setting', { params: { treshold: 3 } }, 'input.params.treshold'],
    ['a change to THRESHOLD without bounds', { kind: 'THRESHOLD' }, 'input.params'],
  ])('refuses %s with BAD_USER_INPUT, and writes no version', async (_label, input, field) => {
    const detector = await registerDetector(streamId);
    const [error] = await graphqlErrors(h.admin.request(UPDATE_DETECTOR, { id: detector.id, input }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await storedVersions(detector.id)).map((v) => v.version)).toEqual([1]);
    const row = await h.runtime.services.ports.db.detector.findUniqueOrThrow({ where: { id: detector.id } });
    expect(row.currentVersion).toBe(1);
  });

  it('never writes one version twice when updates race: each one wins a new version or gets CONFLICT', async () => {
    const detector = await registerDetector(streamId);
    const thresholds = [2, 3, 5, 6, 7];
    const outcomes = await Promise.allSettled(
      thresholds.map((threshold) => h.admin.request(UPDATE_DETECTOR, { id: detector.id, input: { params: { threshold } } })),
    );
    const refusals = outcomes
      .filter((o) => o.status === 'rejected')
      .map((o) => (o.reason as { response?: { errors?: { extensions?: { code?: string } }[] } }).response?.errors?.[0]?.extensions?.code);
    expect(refusals.every((code) => code === 'CONFLICT')).toBe(true);
    const wins = outcomes.length - refusals.length;
    expect(wins).toBeGreaterThanOrEqual(1);
    const versions = (await storedVersions(detector.id)).map((v) => v.version);
    expect(versions).toEqual(Array.from({ length: 1 + wins }, (_, i) => i + 1));
    const row = await h.runtime.services.ports.db.detector.findUniqueOrThrow({ where: { id: detector.id } });
    expect(row.currentVersion).toBe(1 + wins);
  });

  it('answers NOT_FOUND for an unknown detector id', async () => {
    const [error] = await graphqlErrors(h.admin.request(UPDATE_DETECTOR, { id: 'det_unknown', input: { mode: 'SHADOW' } }));
    expect(error?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    expect(await h.runtime.services.ports.db.detectorVersion.count({ where: { detectorId: 'det_unknown' } })).toBe(0);
  });
});

describe('rollbackDetector', () => {
  let streamId: string;
  beforeAll(async () => {
    streamId = (await registerLatencyStream(h)).id;
  });

  it("makes version 1's settings current again as version 3", async () => {
    const detector = await registerDetector(streamId, { params: { window: 60 }, mode: 'SHADOW', severity: 'INFO' });
    await h.admin.request(UPDATE_DETECTOR, {
      id: detector.id,
      input: { kind: 'THRESHOLD', params: { max: 900 }, mode: 'ACTIVE', severity: 'CRITICAL' },
    });
    const { rollbackDetector } = await h.admin.request<{ rollbackDetector: DetectorView }>(ROLLBACK_DETECTOR, {
      id: detector.id,
      version: 1,
    });
    const v1Params = { ...ZSCORE_DEFAULTS, window: 60 };
    expect(rollbackDetector).toMatchObject({ version: 3, kind: 'ZSCORE', params: v1Params, mode: 'SHADOW', severity: 'INFO' });
    expect(rollbackDetector.versions).toEqual([
      { version: 1, kind: 'ZSCORE', params: v1Params, mode: 'SHADOW', createdBy: ADMIN_ACTOR },
      { version: 2, kind: 'THRESHOLD', params: { min: null, max: 900 }, mode: 'ACTIVE', createdBy: ADMIN_ACTOR },
      { version: 3, kind: 'ZSCORE', params: v1Params, mode: 'SHADOW', createdBy: ADMIN_ACTOR },
    ]);
  });

  it.each([
    ['a version the detector never had', 7],
    ['version 0', 0],
  ])('answers NOT_FOUND naming the version for %s, and writes nothing', async (_label, version) => {
    const detector = await registerDetector(streamId);
    const [error] = await graphqlErrors(h.admin.request(ROLLBACK_DETECTOR, { id: detector.id, version }));
    expect(error?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'version' });
    expect((await storedVersions(detector.id)).map((v) => v.version)).toEqual([1]);
  });

  it('answers NOT_FOUND for an unknown detector id', async () => {
    const [error] = await graphqlErrors(h.admin.request(ROLLBACK_DETECTOR, { id: 'det_unknown', version: 1 }));
    expect(error?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
  });
});

describe('queries', () => {
  let streamId: string;
  let created: DetectorView[];
  beforeAll(async () => {
    streamId = (await registerLatencyStream(h)).id;
    created = [];
    for (const kind of ['ZSCORE', 'MAD', 'EWMA']) created.push(await registerDetector(streamId, { kind }));
  });

  it("detectors(streamId) pages through the stream's detectors in creation order", async () => {
    type Page = {
      detectors: {
        edges: { cursor: string; node: { id: string; stream: { id: string } } }[];
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
      };
    };
    const query = /* GraphQL */ `
      query($streamId: ID, $after: String) {
        detectors(streamId: $streamId, first: 2, after: $after) {
          edges { cursor node { id stream { id } } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
      }
    `;
    const first = await h.admin.request<Page>(query, { streamId, after: null });
    expect(first.detectors.edges.map((e) => e.node.id)).toEqual([created[0]?.id, created[1]?.id]);
    expect(first.detectors.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.detectors.pageInfo.startCursor).toBe(first.detectors.edges[0]?.cursor);
    expect(first.detectors.pageInfo.endCursor).toBe(first.detectors.edges[1]?.cursor);

    const second = await h.admin.request<Page>(query, { streamId, after: first.detectors.pageInfo.endCursor });
    expect(second.detectors.edges.map((e) => e.node.id)).toEqual([created[2]?.id]);
    expect(second.detectors.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(second.detectors.edges.every((e) => e.node.stream.id === streamId)).toBe(true);

    const whole = await h.admin.request<Page>(query.replace('first: 2', 'first: 3'), { streamId, after: null });
    expect(whole.detectors.edges.map((e) => e.node.id)).toEqual(created.map((d) => d.id));
    expect(whole.detectors.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it('detector(id) finds a detector, and answers null for an unknown id', async () => {
    const target = created[1]!;
    const found = await h.admin.request<{ detector: DetectorView | null }>(
      `query($id: ID!) { detector(id: $id) { ${DETECTOR_FIELDS} } }`,
      { id: target.id },
    );
    expect(found.detector).toEqual(target);
    const missing = await h.admin.request<{ detector: unknown }>(`query { detector(id: "det_unknown") { id } }`);
    expect(missing.detector).toBeNull();
  });

  it('node(id) resolves a Detector', async () => {
    const target = created[0]!;
    const { node } = await h.admin.request<{ node: { __typename: string; id: string; name: string; kind: string } }>(
      `query($id: ID!) { node(id: $id) { __typename id ... on Detector { name kind } } }`,
      { id: target.id },
    );
    expect(node).toEqual({ __typename: 'Detector', id: target.id, name: target.name, kind: 'ZSCORE' });
  });

  it("Stream.detectors lists the stream's detectors", async () => {
    const { stream } = await h.admin.request<{ stream: { detectors: { id: string; name: string }[] } }>(
      `query($id: ID) { stream(id: $id) { detectors { id name } } }`,
      { id: streamId },
    );
    expect(stream.detectors).toEqual(created.map((d) => ({ id: d.id, name: d.name })));
  });
});
