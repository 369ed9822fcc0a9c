import { GraphQLError, type ValidationContext } from 'graphql';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { credentialOf, EdgeAuthenticator } from './authenticate.ts';
import { useConsoleAssets } from './console-assets.ts';
import { addressOf } from './client-address.ts';
import { useIntrospectionPolicy, useValidationErrorCap } from './policies.ts';
import { MAX_QUERY_COST, maxCostRule } from './query-cost.ts';
import { IdempotencyStore } from './idempotency-store.ts';
import { useIdempotency } from './idempotency-plugin.ts';
import { useRateLimit } from './rate-limit-plugin.ts';
import { RateLimiter } from './rate-limiter.ts';
import { refuseBeforeBody, sendRefusal } from './request-guard.ts';
import { serveGraphqlWs } from './ws-server.ts';
import { Readiness } from '../core/readiness.ts';
import { useSafeInput } from '../schema/safe-input-plugin.ts';
import type { Services } from '../services/container.ts';
import type { Context } from '../schema/context.ts';
import { toClientError } from '../schema/errors.ts';
import { buildSchema } from '../schema/index.ts';
import { maxPageSizeRule } from '../schema/page-size-rule.ts';
import { metricsResponse } from '../telemetry/otel.ts';

/** Query limits: generous for real clients, refusing the shapes used to exhaust a server. */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxTokens: 2000,
  maxCost: MAX_QUERY_COST,
  maxDirectives: 20,
};

/**
 * Armor's validation limits report like any validation error instead of
 * aborting validation, so a query over several limits hears about all of
 * them (and `first: 1000` also gets the plain page-size message). The token
 * limit is not one of them: it must stop the parser itself.
 */
const reportLimit = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'BAD_USER_INPUT' } })),
  ],
};

interface ServerContext {
  /** The Node request (HTTP and SSE; graphql-ws passes its upgrade request). */
  req?: IncomingMessage;
  /** graphql-ws connectionParams; SSE clients may send them as extensions.connectionParams. */
  connectionParams?: Record<string, unknown> | undefined;
  params?: { extensions?: Record<string, unknown> };
}

/**
 * GET /readyz: 200 when PostgreSQL, Redis and Kafka answer and every part
 * starting in the background (`readiness`: the worker, the workflows) is up,
 * else 503 naming what is down or still starting, with what it waits for.
 */
function useReadiness(services: Services, readiness: Readiness): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/readyz') return;
      // As of the request's arrival: the checks below take a moment, and a part may finish meanwhile.
      const starting = readiness.components();
      const infrastructure = await services.health.infrastructure();
      const components = [...infrastructure, ...starting];
      const status = Readiness.overall(infrastructure, starting);
      endResponse(
        new fetchAPI.Response(JSON.stringify({ status, components }), {
          status: status === 'OK' ? 200 : 503,
          headers: { 'content-type': 'application/json' },
        }),
      );
    },
  };
}

/** GET /metrics: the process's metrics in the Prometheus text format (see README, "Telemetry"). */
function useMetrics(): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== '/metrics' || request.method !== 'GET') return;
      const { status, contentType, body } = await metricsResponse();
      endResponse(new fetchAPI.Response(body, { status, headers: { 'content-type': contentType } }));
    },
  };
}

/**
 * Errors that yoga reports without masking (parse and validation failures)
 * get the contract's codes too, so every error a client sees has one.
 */
function useErrorCodes(log: Logger): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      setResult({ ...result, errors: result.errors.map((e) => toClientError(e, log)) });
    },
  };
}

export function createGatewayYoga(
  services: Services,
  log: Logger,
  authenticator: EdgeAuthenticator,
  limiter: RateLimiter,
  readiness = new Readiness(),
): YogaServerInstance<ServerContext, Context> {
  const limits = services.ports.config.edge;
  return createYoga<ServerContext, Context>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    graphiql: false,
    logging: {
      debug: (...args) => log.debug({ args }, 'yoga'),
      info: (...args) => log.info({ args }, 'yoga'),
      warn: (...args) => log.warn({ args }, 'yoga'),
      // Yoga reports every failed operation here; expected ones are the client's business, and
      // unexpected ones are logged in full by toClientError.
      error: (...args) => log.debug({ args }, 'yoga'),
    },
    maskedErrors: { maskError: (error) => toClientError(error, log) },
    // Browsers may call only from the configured origins, and never with cookies: Vigil's credential is a header.
    cors: limits.corsOrigins.length > 0 ? { origin: limits.corsOrigins, credentials: false } : false,
    batching: false,
    plugins: [
      useConsoleAssets(),
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, ...reportLimit },
        maxAliases: { n: QUERY_LIMITS.maxAliases, ...reportLimit },
        maxTokens: { n: QUERY_LIMITS.maxTokens, propagateOnRejection: true },
        // Armor's cost limit cannot see list sizes; maxCostRule below can.
        costLimit: { enabled: false },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives, ...reportLimit },
        blockFieldSuggestion: { enabled: true },
      }),
      {
        onValidate: ({ addValidationRule }) => {
          addValidationRule(maxPageSizeRule);
          addValidationRule(maxCostRule);
        },
      } satisfies Plugin,
      useValidationErrorCap(),
      useIntrospectionPolicy(),
      useRateLimit(limiter, limits),
      // After the rate limit, which so also bounds the FAILED audit entries a flood of hostile input can write.
      useSafeInput(services),
      useReadiness(services, readiness),
      useIdempotency(new IdempotencyStore(services.ports.redis, services.ports.config.queuePrefix), log.child({ component: 'idempotency' })),
      useMetrics(),
      useErrorCodes(log),
    ],
    context: async (initial): Promise<Context> => {
      const clientAddress = addressOf(initial.req);
      const credential = credentialOf(initial.request?.headers.get('authorization'), initial.connectionParams, initial.params?.extensions);
      const { principal, authError } = await authenticator.authenticate(credential, clientAddress);
      return { services, principal, authError, log, clientAddress, traceparent: initial.request?.headers.get('traceparent') ?? null };
    },
  });
}

export interface Gateway {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * The gateway's yoga app with its rate limiter and authenticator, listening
 * nowhere: `startGateway` serves it, and tests call `yoga.fetch` in process.
 */
export function buildGatewayApp(services: Services, log: Logger, readiness?: Readiness) {
  const limiter = new RateLimiter(services.ports.redis, services.ports.config.queuePrefix, log.child({ component: 'rate-limit' }));
  const authenticator = new EdgeAuthenticator(services.apiKeys, limiter, services.ports.config.edge);
  return { yoga: createGatewayYoga(services, log, authenticator, limiter, readiness), authenticator };
}

/** HTTP (queries, mutations, SSE) and graphql-ws on one port, both at /graphql. */
export async function startGateway(services: Services, log: Logger, port: number, readiness?: Readiness): Promise<Gateway> {
  const limits = services.ports.config.edge;
  const { yoga, authenticator } = buildGatewayApp(services, log, readiness);
  const server = createServer((request, response) => {
    const refusal = refuseBeforeBody(request, limits.maxRequestBytes);
    if (refusal) return sendRefusal(response, refusal);
    return yoga(request, response);
  });
  const ws = serveGraphqlWs(yoga as never, server, { authenticator, apiKeys: services.apiKeys, limits, log });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  log.info({ port: boundPort }, 'gateway listening: /graphql (HTTP, graphql-ws, SSE), /healthz, /readyz, /metrics');
  return {
    server,
    port: boundPort,
    close: async () => {
      await ws.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
