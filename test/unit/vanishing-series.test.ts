import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { installMetrics, observeIngestionLag, uninstallMetrics, type LagReading } from '../../src/telemetry/metrics.ts';

/** Collects on demand, as a Prometheus scrape does. */
class OnDemandReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function lagSeries(reader: MetricReader): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === 'vigil_ingestion_lag');
  return Object.fromEntries((metric?.dataPoints ?? []).map((point) => [`${point.attributes.topic}/${point.attributes.partition}`, point.value as number]));
}

describe('vigil_ingestion_lag through the OpenTelemetry SDK', () => {
  let stop = () => {};
  afterEach(() => {
    stop();
    uninstallMetrics();
  });

  it('reads 0 for a partition this process no longer owns, instead of its last lag for ever', async () => {
    const reader = new OnDemandReader();
    installMetrics(new MeterProvider({ readers: [reader] }).getMeter('vigil-test'));
    let owned: LagReading[] = [
      { stream: 's', topic: 't', partition: 0, lag: 500 },
      { stream: 's', topic: 't', partition: 1, lag: 7 },
    ];
    let answers = true;
    stop = observeIngestionLag(async () => {
      if (!answers) throw new Error('the database did not answer');
      return owned;
    });
    expect(await lagSeries(reader)).toEqual({ 't/0': 500, 't/1': 7 });
    // A rebalance hands partition 0 to another worker.
    owned = [{ stream: 's', topic: 't', partition: 1, lag: 3 }];
    expect(await lagSeries(reader)).toEqual({ 't/0': 0, 't/1': 3 });
    // A collection whose source failed zeroes nothing: the series were not read, they did not move.
    answers = false;
    expect(await lagSeries(reader)).toEqual({ 't/0': 0, 't/1': 3 });
    answers = true;
    owned = [];
    expect(await lagSeries(reader)).toEqual({ 't/0': 0, 't/1': 0 });
  });
});
