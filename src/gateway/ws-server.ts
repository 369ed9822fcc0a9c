import type { Server } from 'node:http';
import { GraphQLError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { EdgeLimits } from '../core/config.ts';
import type { ApiKeyService } from '../services/api-keys.ts';
import type { Principal } from '../core/principal.ts';
import type { Context } from '../schema/context.ts';
import { toClientError } from '../schema/errors.ts';
import { credentialOf, type EdgeAuthenticator } from './authenticate.ts';
import { addressOf } from './client-address.ts';

/** Close codes this server uses beyond graphql-ws' own; 4403 is graphql-ws' Forbidden, which its client retries. */
export const WS_CLOSE = {
  forbidden: 4403,
  /** The standard WebSocket "policy violation": this key holds too many sockets. */
  tooManySockets: 1008,
} as const;

export interface GraphqlWsServer {
  dispose(): Promise<void>;
}

/**
 * graphql-ws on the gateway's port. A socket is authenticated when it
 * opens (no key, or a refused one: closed with 4403 and the reason), counted
 * against its key's socket limit, limited in subscriptions, and closed
 * within VIGIL_KEY_RECHECK_MS of its key being revoked even when no event
 * flows. A bad operation is answered with errors on that operation; the
 * socket and its other subscriptions stay.
 */
export function serveGraphqlWs(
  yoga: YogaServerInstance<Record<string, unknown>, Context>,
  server: Server,
  deps: { authenticator: EdgeAuthenticator; apiKeys: ApiKeyService; limits: EdgeLimits; log: Logger },
): GraphqlWsServer {
  const { authenticator, apiKeys, limits, log } = deps;
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: limits.maxRequestBytes });
  const socketsByKey = new Map<string, { principal: Principal; sockets: Set<WebSocket> }>();

  const forget = (keyId: string, socket: WebSocket) => {
    const held = socketsByKey.get(keyId);
    held?.sockets.delete(socket);
    if (held && held.sockets.size === 0) socketsByKey.delete(keyId);
  };

  const wsServer = useServer<Record<string, unknown> | undefined, { socket: WebSocket; request: import('node:http').IncomingMessage }>(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const credential = credentialOf(request.headers.authorization, ctx.connectionParams, undefined);
        const { principal, authError } = await authenticator.authenticate(credential, addressOf(request));
        if (!principal) {
          const reason = authError?.message ?? 'an API key is required: send connectionParams { authorization: "Bearer <secret>" }';
          socket.close(WS_CLOSE.forbidden, closeReason(reason));
          return false;
        }
        const held = socketsByKey.get(principal.keyId) ?? { principal, sockets: new Set<WebSocket>() };
        if (held.sockets.size >= limits.maxSocketsPerKey) {
          socket.close(WS_CLOSE.tooManySockets, closeReason(`this key already holds ${held.sockets.size} sockets (VIGIL_WS_MAX_SOCKETS_PER_KEY)`));
          return false;
        }
        held.sockets.add(socket);
        socketsByKey.set(principal.keyId, held);
        socket.once('close', () => forget(principal.keyId, socket));
        return true;
      },
      onSubscribe: async (ctx, _id, params) => {
        const active = Object.keys(ctx.subscriptions).length;
        if (active > limits.maxSubscriptionsPerSocket) {
          return [
            new GraphQLError(`this socket already has ${active - 1} subscriptions; the limit is ${limits.maxSubscriptionsPerSocket} (VIGIL_WS_MAX_SUBSCRIPTIONS)`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          return [toClientError(error, log)];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors.map((e: GraphQLError) => toClientError(e, log));
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

  // One query per interval for every open socket's key, whatever the number of sockets.
  const recheck = setInterval(() => {
    void (async () => {
      if (socketsByKey.size === 0) return;
      const revoked = await apiKeys.revokedAmong([...socketsByKey.values()].map((held) => held.principal)).catch((error: Error) => {
        log.warn({ error: error.message }, 'could not recheck the keys of open sockets');
        return new Set<string>();
      });
      for (const keyId of revoked) {
        for (const socket of socketsByKey.get(keyId)?.sockets ?? []) socket.close(WS_CLOSE.forbidden, 'the API key was revoked');
        socketsByKey.delete(keyId);
      }
    })();
  }, limits.keyRecheckMs);
  recheck.unref();

  return {
    dispose: async () => {
      clearInterval(recheck);
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A close reason must fit in 123 bytes of UTF-8. */
function closeReason(message: string): string {
  if (Buffer.byteLength(message) <= 123) return message;
  let reason = message.slice(0, 120);
  while (Buffer.byteLength(reason) > 120) reason = reason.slice(0, -1);
  return `${reason}...`;
}
