export type HealthStatus = 'OK' | 'DEGRADED' | 'DOWN';

export interface ComponentHealth {
  name: string;
  status: HealthStatus;
  detail: string | null;
}

/** The worst status among the components: one DOWN part makes the whole DOWN. */
export function overallHealth(components: ComponentHealth[]): HealthStatus {
  if (components.some((c) => c.status === 'DOWN')) return 'DOWN';
  if (components.some((c) => c.status === 'DEGRADED')) return 'DEGRADED';
  return 'OK';
}

/** How a part that is still starting tells readiness what it is doing. */
export interface StartupReport {
  /** Not ready yet; `detail` says what it does or waits for (e.g. "consumer joining group"). */
  pending(detail: string): void;
  ready(detail: string): void;
}

export interface StartingComponent {
  name: string;
  status: 'STARTING' | 'OK';
  detail: string;
}

export type ReadinessStatus = HealthStatus | 'STARTING';

/**
 * The parts of a process that start in the background (the stream worker,
 * the workflows), for GET /readyz. Readiness is about starting: once a part
 * is ready it stays ready, so a rebalance or a registry change later never
 * takes a serving gateway out of its load balancer; what breaks while
 * running shows in the infrastructure checks and in `health`.
 */
export class Readiness {
  private readonly parts = new Map<string, StartingComponent>();

  part(name: string, detail: string): StartupReport {
    this.parts.set(name, { name, status: 'STARTING', detail });
    return {
      pending: (next) => {
        const part = this.parts.get(name);
        if (part?.status === 'STARTING') part.detail = next;
      },
      ready: (next) => {
        this.parts.set(name, { name, status: 'OK', detail: next });
      },
    };
  }

  components(): StartingComponent[] {
    return [...this.parts.values()].map((part) => ({ ...part }));
  }

  /** DOWN while infrastructure is, else STARTING while a part is, else the infrastructure's verdict. */
  static overall(infrastructure: ComponentHealth[], parts: StartingComponent[]): ReadinessStatus {
    const verdict = overallHealth(infrastructure);
    if (verdict === 'DOWN') return verdict;
    return parts.some((part) => part.status === 'STARTING') ? 'STARTING' : verdict;
  }
}
