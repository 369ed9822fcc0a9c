/**
 * How long Vigil takes to answer GET /healthz, asked every 50 ms: a blocked
 * event loop (the gateway, the worker and the runner share one process under
 * `vigil start`) shows here as one slow answer, however few anomalies it
 * happens to delay.
 */
import { performance } from 'node:perf_hooks';
import { sleep } from './services/proc.ts';
import { baseUrl } from './vigil.ts';

export interface ProbeSample {
  /** Epoch ms the request was sent. */
  at: number;
  seconds: number;
}

export class ResponseProbe {
  readonly samples: ProbeSample[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(port: number, intervalMs = 50) {
    this.loop = (async () => {
      while (this.running) {
        const at = Date.now();
        const start = performance.now();
        try {
          const response = await fetch(`${baseUrl(port)}/healthz`, { signal: AbortSignal.timeout(5000) });
          await response.arrayBuffer();
        } catch {
          // An unanswered probe counts at its full wait: that is what a client saw.
        }
        this.samples.push({ at, seconds: (performance.now() - start) / 1000 });
        await sleep(intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The slowest answer that came in [from, to) (epoch ms): a request sent just before a stall is answered in it. */
  slowest(from: number, to = Infinity): number | undefined {
    const answeredAt = (s: ProbeSample) => s.at + s.seconds * 1000;
    const within = this.samples.filter((s) => answeredAt(s) >= from && answeredAt(s) < to).map((s) => s.seconds);
    return within.length === 0 ? undefined : Math.max(...within);
  }
}
