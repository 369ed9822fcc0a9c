import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

export const ACCESS_DESCRIPTIONS: Descriptions = {
  ApiKey: 'A credential: send its secret as `Authorization: Bearer <secret>`. Only a hash of the secret is stored.',
  'ApiKey.name': 'Name, 1 to 100 characters; audit entries, timelines and detector versions name the key by it.',
  'ApiKey.role': 'What the key may do.',
  'ApiKey.createdAt': 'When it was created.',
  'ApiKey.lastUsedAt': 'When it last authenticated a request; null if never.',
  'ApiKey.revokedAt': 'When it was revoked; null while it is valid. A revoked key is refused (UNAUTHENTICATED) and its open subscriptions end within 5 s.',

  Viewer: 'The caller: the key of this request and its role.',
  'Viewer.apiKey': 'The key of this request (for VIGIL_ADMIN_KEY, a key without a row, named "admin").',
  'Viewer.role': 'What this key may do.',

  CreatedApiKey: 'A new API key and its secret.',
  'CreatedApiKey.apiKey': 'The key.',

  AuditEntry:
    'One mutation call, allowed or not, in a hash-chained log: who, what, on what, with what arguments (credentials redacted). `vigil audit verify` checks the chain.',
  'AuditEntry.at': 'When the call was recorded.',
  'AuditEntry.actor': 'Who called: "<key name> (<key id>)", "anonymous", or "revoked key (<key id>)".',
  'AuditEntry.action': 'The mutation, e.g. "registerDetector".',
  'AuditEntry.target': 'What it acted on: an id (of the result when it succeeded) or a name.',
  'AuditEntry.detail': 'The arguments (webhook secrets, headers and URL credentials redacted) and, when refused or failed, the error code and message.',

  'Query.viewer': 'Who is calling: the key and its role. Role: VIEWER.',
  'Query.apiKeys': 'Every API key, revoked ones included (never their secrets). Role: ADMIN.',
  'Query.auditLog': 'Audit entries, a page at a time. Role: ADMIN.',
  ...pageArgs('Query.auditLog'),
  'Query.node':
    "Anything with an id (Relay): streams, detectors, SLAs, runbooks, executions, anomalies, incidents, dead letters; API keys and audit entries for ADMIN only (null otherwise). Null when there is none. Role: VIEWER.",
  'Query.node(id)': 'The id, whose prefix says its type.',

  'Mutation.createApiKey': 'Creates an API key; its secret is in the answer only, once. Role: ADMIN. BAD_USER_INPUT (name) when empty or over 100 characters.',
  'Mutation.createApiKey(name)': 'A name for people, 1 to 100 characters (e.g. "grafana" or "ops-alice").',
  'Mutation.createApiKey(role)': 'What the key may do.',
  'Mutation.revokeApiKey': 'Revokes a key: refused from the next request on, its open subscriptions end within VIGIL_KEY_RECHECK_MS (5 s). Role: ADMIN. NOT_FOUND when unknown.',
  'Mutation.revokeApiKey(id)': 'The key id (key_...).',
};
