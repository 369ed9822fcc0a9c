import { GraphQLError, type ValidationContext } from 'graphql';
import { createServer, type Server } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { Principal } from './resolvers/principal.ts';
import { HealthService } from './resolvers/health.ts';
import type { Services } from './resolvers/services.ts';
import type { Context } from './schema/context.ts';
import { toClientError } from './schema/errors.ts';
import { buildSchema } from './schema/index.ts';
import { maxPageSizeRule } from './schema/page-size-rule.ts';
import { metricsResponse } from './telemetry/otel.ts';

/** Query limits: generous for real clients, refusing the shapes used to exhaust a server. */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxTokens: 2000,
  maxCost: 50_000,
  maxDirectives: 20,
};

/**
 * Armor's limits report like any validation error instead of aborting
 * validation, so a query over several limits hears about all of them
 * (and `first: 1000` also gets the plain page-size message).
 */
const reportLimit = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'BAD_USER_INPUT' } })),
  ],
};

interface ServerContext {
  /** graphql-ws connectionParams; SSE clients may send them as extensions.connectionParams. */
  connectionParams?: Record<string, unknown> | undefined;
}

function credentialOf(request: Request | undefined, initial: ServerContext & { params?: { extensions?: Record<string, unknown> } }): string | undefined {
  const header = request?.headers.get('authorization');
  if (header) return header;
  const fromConnection = initial.connectionParams?.authorization ?? initial.connectionParams?.Authorization;
  if (typeof fromConnection === 'string') return fromConnection;
  const fromExtensions = (initial.params?.extensions?.connectionParams as Record<string, unknown> | undefined)?.authorization;
  return typeof fromExtensions === 'string' ? fromExtensions : undefined;
}

/** GET /readyz: 200 when PostgreSQL, Redis and Kafka answer, else 503 naming what does not. */
function useReadiness(services: Services): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/readyz') return;
      const components = await services.health.infrastructure();
      const status = HealthService.overall(components);
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

export function createGatewayYoga(services: Services, log: Logger): YogaServerInstance<ServerContext, Context> {
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
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, ...reportLimit },
        maxAliases: { n: QUERY_LIMITS.maxAliases, ...reportLimit },
        maxTokens: { n: QUERY_LIMITS.maxTokens, ...reportLimit },
        costLimit: { maxCost: QUERY_LIMITS.maxCost, ...reportLimit },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives, ...reportLimit },
        blockFieldSuggestion: { enabled: true },
      }),
      { onValidate: ({ addValidationRule }) => addValidationRule(maxPageSizeRule) } satisfies Plugin,
      useReadiness(services),
      useMetrics(),
      useErrorCodes(log),
    ],
    context: async (initial): Promise<Context> => {
      let principal: Principal | null = null;
      let authError: Error | null = null;
      try {
        principal = await services.apiKeys.authenticate(credentialOf(initial.request, initial as never));
      } catch (error) {
        authError = error as Error;
      }
      return { services, principal, authError, log, traceparent: initial.request?.headers.get('traceparent') ?? null };
    },
  });
}

export interface Gateway {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** HTTP (queries, mutations, SSE) and graphql-ws on one port, both at /graphql. */
export async function startGateway(services: Services, log: Logger, port: number): Promise<Gateway> {
  const yoga = createGatewayYoga(services, log);
  const server = createServer(yoga);
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const wsServer = useServer(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors.map((e: GraphQLError) => toClientError(e, log));
        return args;
      },
    },
    wss,
  );
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
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
