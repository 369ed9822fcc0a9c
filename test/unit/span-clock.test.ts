import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from '../../src/telemetry/otel.ts';
import { nowMs, traceDetections } from '../../src/telemetry/spans.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

beforeAll(() => {
  telemetry = startTelemetry({ serviceName: 'vigil-unit', spanExporter: exporter });
});
afterAll(async () => {
  await telemetry?.shutdown();
});

const nanos = ([seconds, ns]: [number, number]) => seconds * 1e9 + ns;

describe('spans started at an explicit time', () => {
  it('end on the same clock, so a sub-millisecond span keeps its duration instead of being clamped to 0', async () => {
    // The SDK ends such a span at Date.now() (whole ms) unless told otherwise: a quick span would end before it began.
    for (let i = 0; i < 20; i++) {
      const anomaly = { detectorId: 'det_1', detectorVersion: 1, topic: 't', partition: 0, offset: BigInt(i), severity: 'WARNING', score: 9, shadow: false, traceparent: null };
      const detections = traceDetections({ id: 'str_1', name: 's' }, [anomaly], nowMs());
      await detections.publish({ id: `ano_${i}`, detectorId: 'det_1', detectorVersion: 1, offset: BigInt(i) }, 'vigil:anomalies', async () => undefined);
      detections.end();
    }
    const finished = exporter.getFinishedSpans();
    expect(finished.filter((s) => s.name === 'publish anomaly')).toHaveLength(20);
    expect(finished.filter((s) => s.name === 'detect')).toHaveLength(20);
    for (const span of finished) expect(nanos(span.duration), `${span.name} duration`).toBeGreaterThan(0);
  });
});
