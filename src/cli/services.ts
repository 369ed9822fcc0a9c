/** `vigil services`: the local PostgreSQL, Redis and Kafka, installed, started and reported (dev/services.ts). */
import { loadConfig } from '../core/config.ts';
import { PROJECT_ROOT } from '../core/paths.ts';
import { ensureServices, type ComponentReport } from '../../dev/services.ts';
import { stopKafkaBroker } from '../../dev/kafka-broker.ts';
import { flag } from './args.ts';
import { JSON_OPTION, type Command } from './command.ts';
import { formatTable } from './table.ts';

export function serviceLines(components: ComponentReport[]): string[] {
  const table = formatTable(
    ['COMPONENT', 'VERSION', 'ADDRESS', 'STATE'],
    components.map((c) => [c.name, c.version ?? '-', c.address ?? '-', c.state]),
  );
  const details = components.filter((c) => c.detail).map((c) => `${c.name}: ${c.detail}`);
  return [...table, ...(details.length > 0 ? ['', ...details] : [])];
}

export const servicesCommands: Command[] = [
  {
    words: ['services'],
    summary: 'Install (apt), start and report the local PostgreSQL, Redis and Kafka broker.',
    usage: 'vigil services [--stop] [--no-install] [--json]',
    details: `For each of DATABASE_URL, REDIS_URL and KAFKA_BROKERS on this machine (127.0.0.1 or localhost):
  not installed  installs it on Debian/Ubuntu (apt-get: postgresql, redis-server, openjdk-17-jre-headless,
                 maven) when run as root or with passwordless sudo; otherwise prints the command to run
  stopped        starts it: pg_ctlcluster for the cluster on that port, redis-server --daemonize on
                 that port (files in <VIGIL_STATE_DIR>/redis-<port>), the Kafka broker (dev/kafka-broker.ts)
Remote addresses are only checked. Then prints each component: version, address, state
(answering, started, installed, missing, down, failing).
  --stop         stop the Kafka broker this project started (PostgreSQL and Redis are left running)
  --no-install   never run apt-get; print what to install instead
  --json         print {ok, components: [{name, version, address, state, detail?}]}
Exit 0 when PostgreSQL, Redis and Kafka answer; 1 otherwise.`,
    options: { stop: { type: 'boolean' }, 'no-install': { type: 'boolean' }, ...JSON_OPTION },
    run: async (parsed, io) => {
      const json = flag(parsed, 'json');
      // Progress goes to stderr when stdout carries JSON for a script.
      const log = json ? io.err : io.out;
      if (flag(parsed, 'stop')) {
        const stopped = await stopKafkaBroker({ projectRoot: PROJECT_ROOT, log });
        if (json) io.out(JSON.stringify({ kafka: stopped ? 'stopped' : 'not running' }));
        else io.out(stopped ? 'kafka: stopped' : 'kafka: was not running (from this project)');
        return 0;
      }
      const config = loadConfig();
      const report = await ensureServices({
        databaseUrl: config.databaseUrl,
        redisUrl: config.redisUrl,
        kafkaBrokers: config.kafkaBrokers,
        projectRoot: PROJECT_ROOT,
        stateDir: config.stateDir,
        postgresDataDir: process.env.VIGIL_PGDATA || undefined,
        install: !flag(parsed, 'no-install'),
        log,
      });
      if (json) io.out(JSON.stringify(report));
      else for (const line of serviceLines(report.components)) io.out(line);
      return report.ok ? 0 : 1;
    },
  },
];
