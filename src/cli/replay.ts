/** `vigil replay`: replayStream through the API, then a progress bar while the workers catch up. */
import { GraphQLClient } from 'graphql-request';
import { createVigilClient } from '../../sdk/index.ts';
import { loadConfig } from '../core/config.ts';
import { flag, integerValue, requiredOption, stringOption, UsageError, type Parsed } from './args.ts';
import { JSON_OPTION, type CliIo, type Command } from './command.ts';
import { describeApiError } from './demo/run.ts';
import { createKeyInDatabase, revokeKeyInDatabase } from './keys.ts';
import { progressBar } from './progress.ts';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** --from: an ISO-8601 time, or a duration before `now` such as 30m, 2h, 7d. */
export function replayStart(value: string, now = Date.now()): Date {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  const at = relative ? now - Number(relative[1]) * UNITS[relative[2]!]! : /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(at)) throw new UsageError(`--from must be an ISO-8601 time or a duration before now, e.g. 2h or 30m (got ${JSON.stringify(value)})`);
  if (at > now) throw new UsageError(`--from is in the future (${new Date(at).toISOString()})`);
  return new Date(at);
}

const LAG = /* GraphQL */ `query replayLag($id: ID) { stream(id: $id) { health { ingestionLag } } }`;

async function apiKey(parsed: Parsed): Promise<{ secret: string; temporaryId?: string }> {
  const given = stringOption(parsed, 'key') ?? process.env.VIGIL_API_KEY ?? process.env.VIGIL_ADMIN_KEY;
  if (given) return { secret: given };
  const { apiKey: key, secret } = await createKeyInDatabase(`replay-${new Date().toISOString().slice(0, 19)}`, 'OPERATOR');
  return { secret, temporaryId: key.id };
}

async function runReplay(parsed: Parsed, io: CliIo): Promise<number> {
  const json = flag(parsed, 'json');
  const stream = requiredOption(parsed, 'stream', 'the stream id or name');
  const from = replayStart(requiredOption(parsed, 'from', 'e.g. 2h or 2025-03-01T12:00:00Z'));
  const timeoutMs = integerValue('timeout', stringOption(parsed, 'timeout') ?? '600', 1, 86_400) * 1000;
  const url = stringOption(parsed, 'url') ?? `http://127.0.0.1:${loadConfig().port || 4000}/graphql`;
  const print = json ? io.err : io.out;
  const key = await apiKey(parsed);
  const bar = progressBar(process.stdout, io.isTTY && !json, print);
  try {
    const sdk = createVigilClient(url, key.secret);
    const raw = new GraphQLClient(url, { headers: { authorization: `Bearer ${key.secret}` } });
    const { stream: found } = await sdk.stream(stream.startsWith('str_') ? { id: stream } : { name: stream });
    if (!found) {
      io.err(`vigil replay: no stream ${JSON.stringify(stream)}`);
      return 1;
    }
    const { replayStream } = await sdk.replayStream({ input: { streamId: found.id, fromTimestamp: from.toISOString() } });
    print(`replay     ${found.name} from ${from.toISOString()}: partitions restart at ${JSON.stringify(replayStream.fromOffsets)}`);
    const lag = async () => (await raw.request<{ stream: { health: { ingestionLag: number } } | null }>(LAG, { id: found.id })).stream?.health.ingestionLag ?? 0;
    const result = { streamId: found.id, fromTimestamp: from.toISOString(), fromOffsets: replayStream.fromOffsets, caughtUp: true };
    if (!flag(parsed, 'no-wait')) {
      // The lag just after the move is the work to redo; it falls to 0 as the workers re-read.
      let total = Math.max(1, await lag());
      const deadline = Date.now() + timeoutMs;
      for (let left = total; left > 0; left = await lag()) {
        total = Math.max(total, left);
        bar.update(total - left, total, 'events re-read');
        if (Date.now() > deadline) {
          result.caughtUp = false;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      bar.done();
      print(result.caughtUp ? 'caught up  the workers have re-read every event since then' : `not caught up within ${timeoutMs / 1000} s: is a worker running?`);
    }
    if (json) io.out(JSON.stringify(result));
    return result.caughtUp ? 0 : 1;
  } catch (error) {
    bar.done();
    io.err(`vigil replay: ${describeApiError(error, url)}`);
    return 1;
  } finally {
    if (key.temporaryId) await revokeKeyInDatabase(key.temporaryId).catch(() => undefined);
  }
}

export const replayCommands: Command[] = [
  {
    words: ['replay'],
    summary: 'Re-consume a stream from a time (replayStream) and show the workers catching up.',
    usage: 'vigil replay --stream ID|NAME --from TIME [--url URL] [--key SECRET] [--timeout S] [--no-wait] [--json]',
    details: `Talks to a running service through its GraphQL API. Detector state is rebuilt from the nearest
earlier checkpoint; an event already scored by the same detector version makes no second anomaly.
  --stream ID|NAME  the stream
  --from TIME       where to restart: an ISO-8601 time, or a duration before now (30m, 2h, 7d)
  --url URL         the GraphQL endpoint (default http://127.0.0.1:$PORT/graphql, PORT default 4000)
  --key SECRET      an OPERATOR or ADMIN key (default $VIGIL_API_KEY, else $VIGIL_ADMIN_KEY, else a temporary
                    OPERATOR key made in DATABASE_URL's database and revoked at the end)
  --timeout S       seconds to wait for the workers to catch up (default 600)
  --no-wait         return once the replay is set, without waiting
  --json            print {streamId, fromTimestamp, fromOffsets, caughtUp} on stdout (progress goes to stderr)
Exit 0 when caught up (or set, with --no-wait), 1 otherwise.`,
    options: {
      stream: { type: 'string' },
      from: { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      timeout: { type: 'string' },
      'no-wait': { type: 'boolean' },
      ...JSON_OPTION,
    },
    run: runReplay,
  },
];
