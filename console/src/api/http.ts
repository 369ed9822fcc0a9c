import { storedKey } from '../session.ts';

/** A GraphQL error answer; `code` is the contract's extensions.code (UNAUTHENTICATED, FORBIDDEN...). */
export class GraphqlFailure extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

interface GraphqlAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

/** Fired when the signed-in key is refused (revoked meanwhile): the app goes back to the sign-in page. */
export const KEY_REFUSED_EVENT = 'vigil:key-refused';

/** One query or mutation over HTTP POST /graphql with the signed-in key. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, key = storedKey()): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  let answer: GraphqlAnswer<T>;
  try {
    answer = (await response.json()) as GraphqlAnswer<T>;
  } catch {
    throw new GraphqlFailure(`the gateway answered ${response.status} without a GraphQL result`, response.status === 429 ? 'RATE_LIMITED' : null);
  }
  const first = answer.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? null;
    if (code === 'UNAUTHENTICATED' && key !== null && key === storedKey()) dispatchEvent(new CustomEvent(KEY_REFUSED_EVENT, { detail: first.message }));
    throw new GraphqlFailure(first.message, code, first.extensions?.field ?? null);
  }
  if (!answer.data) throw new GraphqlFailure('the gateway answered without data', null);
  return answer.data;
}

export interface Readiness {
  /** OK, DEGRADED, DOWN, STARTING... as /readyz says; UNREACHABLE when it does not answer. */
  status: string;
  components: { name: string; status: string; detail?: string | null }[];
}

/** GET /readyz, the public readiness probe: which components are down or starting. */
export async function readiness(): Promise<Readiness> {
  try {
    const response = await fetch('/readyz', { cache: 'no-store' });
    const body = (await response.json()) as { status?: string; components?: Readiness['components'] };
    return { status: body.status ?? (response.ok ? 'OK' : 'DOWN'), components: body.components ?? [] };
  } catch {
    return { status: 'UNREACHABLE', components: [] };
  }
}
