/** `vigil demo`: a guided first incident against the running service (src/cli/demo/). */
import { loadConfig } from '../core/config.ts';
import { flag, integerValue, stringOption, type Parsed } from './args.ts';
import { JSON_OPTION, type CliIo, type Command } from './command.ts';
import { Demo, DemoError, describeApiError, type DemoOutcome } from './demo/run.ts';
import { startReceiver } from './demo/receiver.ts';
import { createKeyInDatabase, revokeKeyInDatabase } from './keys.ts';
import { progressBar } from './progress.ts';

/** The key the demo calls the API with: given, or a temporary ADMIN key made in the database (revoked at the end). */
async function demoKey(parsed: Parsed): Promise<{ secret: string; temporaryId?: string }> {
  const given = stringOption(parsed, 'key') ?? process.env.VIGIL_API_KEY ?? process.env.VIGIL_ADMIN_KEY;
  if (given) return { secret: given };
  const { apiKey, secret } = await createKeyInDatabase(`demo-${new Date().toISOString().slice(0, 19)}`, 'ADMIN');
  return { secret, temporaryId: apiKey.id };
}

function printOutcome(outcome: DemoOutcome, print: (line: string) => void): void {
  print('');
  print(`anomalies  ${outcome.anomalies.length}:`);
  for (const a of outcome.anomalies) print(`           ${a.eventTime}  ${a.host ?? '-'}  ${a.value} ms: ${a.explanation}`);
  if (outcome.incident) print(`incident   ${outcome.incident.title} (${outcome.incident.status})   ${outcome.incident.url}`);
  if (outcome.execution) {
    const steps = outcome.execution.steps.map((s) => `${s.action} ${s.status}`).join(', ');
    print(`runbook    run ${outcome.execution.status}: ${steps}; webhook calls received here: ${outcome.webhookCalls}   ${outcome.execution.url}`);
    print(`verified   ${outcome.execution.verified ? 'yes: no new anomaly after the remediation, the incident resolved' : 'no: anomalies continued after the remediation (see the incident timeline)'}`);
  }
  if (outcome.incident) print(`postmortem ${outcome.incident.postmortemUrl}`);
}

async function runDemo(parsed: Parsed, io: CliIo): Promise<number> {
  const json = flag(parsed, 'json');
  const config = loadConfig();
  const url = stringOption(parsed, 'url') ?? `http://127.0.0.1:${config.port || 4000}/graphql`;
  const consoleUrl = stringOption(parsed, 'console') ?? url.replace(/\/graphql\/?$/, '/');
  const minutes = integerValue('minutes', stringOption(parsed, 'minutes') ?? '60', 40, 24 * 60);
  const port = integerValue('port', stringOption(parsed, 'port') ?? '4099', 0, 65535);
  const timeoutMs = integerValue('timeout', stringOption(parsed, 'timeout') ?? '120', 10, 3600) * 1000;
  const keepRunning = flag(parsed, 'keep-running');
  // Lines for people go to stdout, or to stderr when stdout carries the JSON outcome.
  const print = json ? io.err : io.out;
  const bar = progressBar(process.stdout, io.isTTY && !json, print);
  const key = await demoKey(parsed);
  if (key.temporaryId) print(`key        created a temporary ADMIN key ${key.temporaryId} for the demo (pass --key or set VIGIL_API_KEY to use yours)`);
  const receiver = await startReceiver(port, 60_000, (call) => bar.log(`webhook    ${call.path} called by the runbook; answering once the remediation is done`));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const demo = new Demo({ url, apiKey: key.secret, consoleUrl, receiver, name: stringOption(parsed, 'name') ?? `demo-checkout-${Date.now().toString(36)}`, minutes, seed: 20240501, timeoutMs, print: (line) => bar.log(line), bar });
    const { webhookRefused } = await demo.register();
    await demo.produceHistory(Date.now());
    const outcome = await demo.outcome(webhookRefused);
    if (json) io.out(JSON.stringify(outcome));
    printOutcome(outcome, print);
    if (keepRunning) {
      print(`\nlive       producing a reading per host every 5 s, a slowdown every 10 minutes; Ctrl-C stops   ${demo.link('streams', demo.streamId)}`);
      await demo.produceLive(stop.signal, 10 * 60_000);
    }
    return outcome.execution?.verified ? 0 : 1;
  } catch (error) {
    bar.done();
    if (error instanceof DemoError) {
      io.err(`vigil demo: ${error.message}`);
      return 1;
    }
    if (error instanceof Error && error.name === 'ConfigError') throw error;
    io.err(`vigil demo: ${describeApiError(error, url)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await receiver.close();
    if (key.temporaryId) await revokeKeyInDatabase(key.temporaryId).catch(() => undefined);
  }
}

export const demoCommands: Command[] = [
  {
    words: ['demo'],
    summary: 'Show Vigil at work: a demo stream, an hour of history with faults, an incident, a runbook run and its verification.',
    usage: 'vigil demo [--url URL] [--key SECRET] [--console URL] [--minutes N] [--port N] [--timeout S] [--name NAME] [--keep-running] [--json]',
    details: `Talks to a running service (npm start) through its GraphQL API, as a user would. Registers a stream
demo-checkout-<id> (latency of three hosts), a LIKELIHOOD detector, an ERROR_RATE SLA and a runbook
(NOTIFY, then a WEBHOOK to a receiver this command runs on 127.0.0.1), produces the history with three
injected slowdowns, and prints the anomalies, the incident, the runbook run and its verification with
links to the console. The service must allow the receiver: VIGIL_WEBHOOK_ALLOW=127.0.0.1:4099
(without it the runbook only notifies, and the demo says so).
  --url URL        the GraphQL endpoint (default http://127.0.0.1:$PORT/graphql, PORT default 4000)
  --key SECRET     an ADMIN key (default $VIGIL_API_KEY, else $VIGIL_ADMIN_KEY, else a temporary key made
                   in DATABASE_URL's database and revoked at the end)
  --console URL    where the console's pages are (default: the service's address)
  --minutes N      history to produce, 40 to 1440 (default 60)
  --port N         the webhook receiver's port on 127.0.0.1 (default 4099; 0: any)
  --timeout S      seconds to wait for each stage (default 120)
  --name NAME      the demo stream's name and topic (default demo-checkout-<id>)
  --keep-running   then keep producing live readings, with a slowdown every 10 minutes, until Ctrl-C
  --json           print the outcome as one JSON line on stdout (progress goes to stderr)
Exit 0 when the runbook run was verified, 1 otherwise.`,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      console: { type: 'string' },
      minutes: { type: 'string' },
      port: { type: 'string' },
      timeout: { type: 'string' },
      name: { type: 'string' },
      'keep-running': { type: 'boolean' },
      ...JSON_OPTION,
    },
    run: runDemo,
  },
];
