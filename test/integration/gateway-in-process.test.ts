import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../src/core/errors.ts';
import type { Role } from '../../src/generated/prisma/enums.ts';
import { buildGatewayApp } from '../../src/gateway/server.ts';
import type { Services } from '../../src/services/container.ts';
import { MAX_PAGE_SIZE } from '../../src/services/pagination.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { openTestRuntime } from '../support/harness.ts';

/**
 * The gateway's error rules through yoga's own `fetch`, no port: what a
 * client reads when a resolver fails unexpectedly (INTERNAL, nothing of the
 * failure), when its key is missing, unknown or too weak, and when it asks
 * for a page over the limit. The services underneath are the real ones.
 */
let runtime: Runtime;
const secrets: Partial<Record<Role, string>> = { ADMIN: TEST_ADMIN_KEY };

beforeAll(async () => {
  runtime = await openTestRuntime();
  for (const role of ['VIEWER', 'OPERATOR'] as const) {
    secrets[role] = (await runtime.services.apiKeys.create(uniqueName(`gw-${role.toLowerCase()}`), role)).secret;
  }
});
afterAll(async () => {
  await runtime?.close();
});

interface GraphqlError {
  message: string;
  extensions: Record<string, unknown>;
}

/** A gateway over `services`, its log lines kept for the test to read. */
function gatewayOver(services: Services) {
  const logged: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  const { yoga } = buildGatewayApp(services, log);
  const post = async (query: string, options: { variables?: Record<string, unknown>; secret?: string } = {}) => {
    const response = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.secret ? { authorization: `Bearer ${options.secret}` } : {}) },
      body: JSON.stringify({ query, variables: options.variables ?? {} }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { data?: unknown; errors?: GraphqlError[] };
    return { status: response.status, text, body, errors: body.errors ?? [] };
  };
  return { post, logged };
}

describe('an unexpected failure in a resolver', () => {
  const internalMessage = 'relation "vigil_internal_ledger" does not exist';
  const sql = `SELECT "secretHash" FROM "ApiKey" WHERE "prefix" = 'vk_leak_canary'`;

  /** The real services, except that every method of the health service fails with `failure`. */
  function servicesFailingWith(failure: unknown): Services {
    const services = runtime.services;
    const health = new Proxy(services.health, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? () => Promise.reject(failure) : value;
      },
    });
    return { ...services, health };
  }

  const failures: [string, () => unknown][] = [
    ['an Error naming SQL', () => Object.assign(new Error(`${internalMessage}: ${sql}`), { meta: { query: sql } })],
    ['a thrown non-Error', () => ({ sql, detail: internalMessage })],
  ];

  it.each(failures)('(%s) reaches the client as INTERNAL "Unexpected error." with no message, stack or SQL of its own', async (_, failure) => {
    const { post } = gatewayOver(servicesFailingWith(failure()));
    const { body, errors, text } = await post('{ health { status } }', { secret: secrets.VIEWER });

    expect(body.data).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL' } });
    expect(Object.keys(errors[0]!.extensions)).toEqual(['code']);
    for (const leak of ['vigil_internal_ledger', 'vk_leak_canary', 'SELECT', 'secretHash', 'stack', '.ts:', '    at ']) {
      expect(text, `the response carries "${leak}"`).not.toContain(leak);
    }
  });

  it('is logged in full on the server, stack and all, with the field it failed in', async () => {
    const { post, logged } = gatewayOver(servicesFailingWith(failures[0]![1]()));
    await post('{ health { status } }', { secret: secrets.VIEWER });

    const entry = logged.find((line) => line.msg === 'unexpected error while resolving');
    expect(entry, `log lines: ${JSON.stringify(logged)}`).toBeDefined();
    const err = entry!.err as { message: string; stack: string };
    expect(err.message).toContain(internalMessage);
    expect(err.stack).toContain('gateway-in-process.test.ts');
    expect(entry!.path).toEqual(['health']);
  });

  it('is not how an expected failure on the same path reads: a domain error keeps its code, field and message (the check above has teeth)', async () => {
    const { post } = gatewayOver(servicesFailingWith(new BadUserInputError('streamId', 'no such stream here')));
    const { errors } = await post('{ health { status } }', { secret: secrets.VIEWER });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: 'streamId: no such stream here', extensions: { code: 'BAD_USER_INPUT', field: 'streamId' } });
  });
});

describe('authentication and roles', () => {
  const readStreams = '{ streams(first: 1) { edges { cursor } } }';
  const createKey = 'mutation($name: String!) { createApiKey(name: $name, role: VIEWER) { apiKey { id } } }';

  it('refuses a query without a key as UNAUTHENTICATED', async () => {
    const { body, errors } = await gatewayOver(runtime.services).post(readStreams);
    expect(body.data).toBeNull();
    expect(errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses an unknown key as UNAUTHENTICATED, without saying whether such a key exists', async () => {
    const { errors } = await gatewayOver(runtime.services).post(readStreams, { secret: 'vk_not_a_key_0123456789abcdef' });
    expect(errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(errors[0]!.message).not.toContain('vk_not_a_key');
  });

  it('answers the same query for a VIEWER key (the refusals above are about the key)', async () => {
    const { body, errors } = await gatewayOver(runtime.services).post(readStreams, { secret: secrets.VIEWER });
    expect(errors).toEqual([]);
    expect(body.data).toMatchObject({ streams: { edges: expect.any(Array) } });
  });

  it.each(['VIEWER', 'OPERATOR'] as const)('refuses an ADMIN mutation to a %s key as FORBIDDEN naming the role, and nothing is created', async (role) => {
    const name = uniqueName('gw-refused');
    const { body, errors } = await gatewayOver(runtime.services).post(createKey, { variables: { name }, secret: secrets[role] });
    expect(body.data).toBeNull();
    expect(errors.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    expect(errors[0]!.message).toContain('ADMIN');
    expect(await runtime.services.ports.db.apiKey.count({ where: { name } })).toBe(0);
  });

  it('lets the ADMIN key run the same mutation', async () => {
    const name = uniqueName('gw-allowed');
    const { errors } = await gatewayOver(runtime.services).post(createKey, { variables: { name }, secret: secrets.ADMIN });
    expect(errors).toEqual([]);
    expect(await runtime.services.ports.db.apiKey.count({ where: { name } })).toBe(1);
  });
});

describe('the page-size rule', () => {
  const page = (first: number | '$n') => `query${first === '$n' ? '($n: Int)' : ''} { streams(first: ${first}) { edges { cursor } } }`;

  it(`accepts first: ${MAX_PAGE_SIZE}`, async () => {
    const { errors } = await gatewayOver(runtime.services).post(page(MAX_PAGE_SIZE), { secret: secrets.VIEWER });
    expect(errors).toEqual([]);
  });

  it.each([1000, MAX_PAGE_SIZE + 1, 0])('refuses a literal first: %i as BAD_USER_INPUT on field first, naming the limit', async (first) => {
    const { body, errors } = await gatewayOver(runtime.services).post(page(first), { secret: secrets.VIEWER });
    expect(body.data).toBeUndefined();
    const onFirst = errors.filter((e) => e.extensions.field === 'first');
    expect(onFirst).toHaveLength(1);
    expect(onFirst[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(onFirst[0]!.message).toContain(String(MAX_PAGE_SIZE));
  });

  it('refuses the same page size passed as a variable, on field first', async () => {
    const { errors } = await gatewayOver(runtime.services).post(page('$n'), { variables: { n: MAX_PAGE_SIZE + 1 }, secret: secrets.VIEWER });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});
