import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient, type DetectorKindsQuery } from '../../sdk/index.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

/**
 * The settings guide (`detectorKinds`, `runbookActions`) is only worth
 * reading if it tells the truth: these tests hold its defaults and bounds to
 * what registerDetector actually stores and refuses.
 */

let h: Harness;
let viewerSecret: string;
let streamId: string;

beforeAll(async () => {
  h = await startHarness();
  viewerSecret = (await h.createKey('VIEWER')).secret;
  streamId = (await registerLatencyStream(h)).id;
});
afterAll(async () => {
  await h?.close();
});

interface Setting {
  name: string;
  description: string;
  type: string;
  accepts: string;
  required: boolean;
  hasDefault: boolean;
  default: unknown;
  nullable: boolean;
  min: number | null;
  exclusiveMin: boolean;
  max: number | null;
  values: string[] | null;
}

const SETTING_FIELDS = 'name description type accepts required hasDefault default nullable min exclusiveMin max values';

const RUNBOOK_ACTIONS = /* GraphQL */ `{ runbookActions { action description settings { ${SETTING_FIELDS} } } }`;
const KIND_VALUES = /* GraphQL */ `{ __type(name: "DetectorKind") { enumValues { name } } }`;
const ACTION_VALUES = /* GraphQL */ `{ __type(name: "RunbookAction") { enumValues { name } } }`;
const REGISTER_DETECTOR = /* GraphQL */ `
  mutation RegisterDetector($input: RegisterDetectorInput!) { registerDetector(input: $input) { id params } }
`;

type KindGuide = DetectorKindsQuery['detectorKinds'][number];

/** Read with the typed SDK, as an automation script building a form would. */
async function guide(): Promise<KindGuide[]> {
  const { detectorKinds } = await createVigilClient(h.url, viewerSecret).detectorKinds();
  return detectorKinds;
}

function register(kind: string, params: Record<string, unknown>) {
  return h.admin.request<{ registerDetector: { id: string; params: Record<string, unknown> } }>(REGISTER_DETECTOR, {
    input: { streamId, name: uniqueName('guide'), field: 'latency_ms', kind, params },
  });
}

/** Kinds that register with empty params, so every setting left out takes what the guide says. */
const KINDS_WITHOUT_REQUIRED_SETTINGS = ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL', 'LIKELIHOOD'];

describe('detectorKinds', () => {
  it('describes every kind of the schema, each with its settings, for a VIEWER key', async () => {
    const kinds = await guide();
    const { __type } = await h.client(viewerSecret).request<{ __type: { enumValues: { name: string }[] } }>(KIND_VALUES);
    expect(kinds.map((k) => k.kind).sort()).toEqual(__type.enumValues.map((v) => v.name).sort());
    for (const kind of kinds) {
      expect(kind.description, kind.kind).not.toBe('');
      expect(kind.settings.length, kind.kind).toBeGreaterThan(0);
      for (const setting of kind.settings) expect(setting.description.length, `${kind.kind}.${setting.name}`).toBeGreaterThan(10);
    }
    const ensemble = kinds.find((k) => k.kind === 'ENSEMBLE');
    expect(ensemble?.memberSettings?.map((s) => s.name)).toEqual(expect.arrayContaining(['kind', 'params', 'weight']));
    expect(kinds.find((k) => k.kind === 'ZSCORE')?.memberSettings).toBeNull();
  });

  it.each(KINDS_WITHOUT_REQUIRED_SETTINGS)('%s: registered with no params, stores only listed settings, and every default the guide gives', async (kind) => {
    const settings = (await guide()).find((k) => k.kind === kind)!.settings;
    const { registerDetector } = await register(kind, {});
    const listed = settings.map((s) => s.name);
    for (const stored of Object.keys(registerDetector.params)) expect(listed, `${kind} stored ${stored}`).toContain(stored);
    const withDefaults = settings.filter((s) => s.hasDefault);
    expect(withDefaults.length).toBeGreaterThan(0);
    for (const setting of withDefaults) {
      expect(registerDetector.params[setting.name], `${kind}.${setting.name}`).toEqual(setting.default);
    }
  });

  it.each(KINDS_WITHOUT_REQUIRED_SETTINGS)('%s: a value just past each numeric bound the guide gives is refused naming the setting, and one at the bound is stored', async (kind) => {
    const numeric = (await guide()).find((k) => k.kind === kind)!.settings.filter((s) => s.type === 'INTEGER' || s.type === 'NUMBER');
    const bounded = numeric.filter((s) => s.min !== null || s.max !== null);
    expect(bounded.length).toBeGreaterThan(0);
    for (const setting of bounded) {
      const step = setting.type === 'INTEGER' ? 1 : 1e-6;
      const outside = [
        ...(setting.min === null ? [] : [setting.exclusiveMin ? setting.min : setting.min - step]),
        ...(setting.max === null ? [] : [setting.max + step]),
      ];
      for (const value of outside) {
        const [error] = await graphqlErrors(register(kind, { [setting.name]: value }));
        expect(error?.extensions, `${kind}.${setting.name} = ${value}`).toMatchObject({ code: 'BAD_USER_INPUT', field: `input.params.${setting.name}` });
      }
    }
    // The guide's `max` is inclusive: the largest value it states is stored as given.
    for (const setting of bounded.filter((s) => s.max !== null)) {
      const { registerDetector } = await register(kind, { [setting.name]: setting.max });
      expect(registerDetector.params[setting.name], `${kind}.${setting.name}`).toBe(setting.max);
    }
  });

  it('lists LIKELIHOOD context channels as the values its `channels` setting takes', async () => {
    const channels = (await guide()).find((k) => k.kind === 'LIKELIHOOD')!.settings.find((s) => s.name === 'channels')!;
    expect(channels.type).toBe('ARRAY');
    for (const channel of ['SEASON', 'FLAT', 'DRIFT', 'SEQUENCE']) expect(channels.description).toContain(channel);
  });
});

describe('runbookActions', () => {
  it('describes every action of the schema with its settings; WEBHOOK requires its url', async () => {
    const { runbookActions } = await h.client(viewerSecret).request<{ runbookActions: { action: string; description: string; settings: Setting[] }[] }>(RUNBOOK_ACTIONS);
    const { __type } = await h.client(viewerSecret).request<{ __type: { enumValues: { name: string }[] } }>(ACTION_VALUES);
    expect(runbookActions.map((a) => a.action).sort()).toEqual(__type.enumValues.map((v) => v.name).sort());
    for (const action of runbookActions) expect(action.description, action.action).not.toBe('');
    const url = runbookActions.find((a) => a.action === 'WEBHOOK')!.settings.find((s) => s.name === 'url');
    expect(url).toMatchObject({ type: 'URL', required: true, hasDefault: false, default: null });
  });

  it('refuses a call without a key before describing anything', async () => {
    const [error] = await graphqlErrors(h.client().request(RUNBOOK_ACTIONS));
    expect(error?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
