/**
 * Example automation with the typed SDK: registers a latency stream, a
 * ZSCORE detector on its latency_ms and a runbook (NOTIFY, then WEBHOOK) that
 * the detector's incidents trigger. Prints one JSON line per created object.
 *
 *   VIGIL_API_KEY=<ADMIN key secret> npx tsx examples/register-pipeline.ts [stream-name]
 *
 * Environment: VIGIL_URL (default http://127.0.0.1:4000/graphql),
 * VIGIL_API_KEY (required; registering needs the ADMIN role),
 * VIGIL_WEBHOOK_URL (default https://hooks.example.com/vigil).
 * Exits 1 on any error, printing its GraphQL code and field; 2 on bad usage.
 */
import { realpathSync } from 'node:fs';
import { createVigilClient, vigilErrors, type RegisterStreamInput, type VigilClient } from '../sdk/index.ts';

const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';
const DEFAULT_WEBHOOK_URL = 'https://hooks.example.com/vigil';

/** The data contract: one latency measurement of one host at one time. */
export const LATENCY_SCHEMA = {
  type: 'object',
  properties: {
    host: { type: 'string' },
    latency_ms: { type: 'number', minimum: 0 },
    at: { type: 'string', format: 'date-time' },
  },
  required: ['host', 'latency_ms', 'at'],
  additionalProperties: false,
};

export type Created =
  | { created: 'stream'; id: string; name: string; topic: string; schemaVersion: number }
  | { created: 'detector'; id: string; name: string; kind: string; field: string; version: number; streamId: string }
  | { created: 'runbook'; id: string; name: string; steps: string[]; detectorId: string | null };

export interface Pipeline {
  streamId: string;
  detectorId: string;
  runbookId: string;
}

/**
 * Registers the stream `name` (its topic has the same name), its detector and
 * its runbook, in that order, calling `onCreated` after each one so a failure
 * half-way still reports what exists. Rejects with the client's error.
 */
export async function registerPipeline(
  client: VigilClient,
  name: string,
  onCreated: (created: Created) => void = () => {},
  webhookUrl: string = DEFAULT_WEBHOOK_URL,
): Promise<Pipeline> {
  const streamInput: RegisterStreamInput = {
    name,
    topic: name,
    schema: LATENCY_SCHEMA,
    keyField: 'host',
    timestampField: 'at',
    valueFields: ['latency_ms'],
    partitions: 3,
  };
  const { registerStream: stream } = await client.registerStream({ input: streamInput });
  onCreated({ created: 'stream', id: stream.id, name: stream.name, topic: stream.topic, schemaVersion: stream.schemaVersion });

  const { registerDetector: detector } = await client.registerDetector({
    input: {
      streamId: stream.id,
      name: 'latency-zscore',
      field: 'latency_ms',
      kind: 'ZSCORE',
      params: { window: 300, threshold: 4, direction: 'UP' },
      severity: 'WARNING',
    },
  });
  onCreated({
    created: 'detector',
    id: detector.id,
    name: detector.name,
    kind: detector.kind,
    field: detector.field,
    version: detector.version,
    streamId: detector.stream.id,
  });

  const { registerRunbook: runbook } = await client.registerRunbook({
    input: {
      name: `${name}-latency-response`,
      trigger: { detectorId: detector.id, minSeverity: 'WARNING' },
      steps: [
        { action: 'NOTIFY', params: { message: `Latency anomaly on stream ${name}` } },
        { action: 'WEBHOOK', params: { url: webhookUrl, timeoutMs: 5000 } },
      ],
      cooldownSeconds: 600,
    },
  });
  onCreated({
    created: 'runbook',
    id: runbook.id,
    name: runbook.name,
    steps: runbook.steps.map((s) => s.action),
    detectorId: runbook.trigger.detector?.id ?? null,
  });

  return { streamId: stream.id, detectorId: detector.id, runbookId: runbook.id };
}

/** Runs the example from the environment and arguments; resolves with the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const apiKey = env.VIGIL_API_KEY;
  if (!apiKey) {
    console.error('register-pipeline: VIGIL_API_KEY is not set; set it to the secret of an ADMIN API key (e.g. from `vigil keys create --role ADMIN --name automation`)');
    return 2;
  }
  const url = env.VIGIL_URL || DEFAULT_URL;
  const name = argv[0] ?? `latency-${new Date().toISOString().replace(/[-:.]/g, '').toLowerCase()}`;
  // Retried calls are safe: each mutation carries an Idempotency-Key, so a lost answer is replayed, not run twice.
  const client = createVigilClient(url, apiKey, { retries: 3 });
  try {
    await registerPipeline(client, name, (created) => console.log(JSON.stringify(created)), env.VIGIL_WEBHOOK_URL || DEFAULT_WEBHOOK_URL);
    return 0;
  } catch (error) {
    const errors = vigilErrors(error);
    if (errors.length === 0) {
      // Not a GraphQL answer: the service could not be reached or did not speak GraphQL.
      const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
      console.error(`register-pipeline: ${url}: ${error instanceof Error ? error.message : String(error)}${cause}`);
    }
    for (const e of errors) {
      console.error(`register-pipeline: ${e.code ?? 'ERROR'}${e.field ? ` (field ${e.field})` : ''}: ${e.message}`);
    }
    return 1;
  }
}

function executedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(import.meta.filename);
  } catch {
    return false;
  }
}

if (executedDirectly()) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
