import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { diag, DiagLogLevel, metrics, trace, type DiagLogger } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { installMetrics, uninstallMetrics } from './metrics.ts';

export interface TelemetryOptions {
  serviceName: string;
  /**
   * OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT): spans go to `<url>/v1/traces`
   * and metrics to `<url>/v1/metrics`. Unset: no OTLP export.
   */
  otlpEndpoint?: string | undefined;
  /** Spans also go here, each as it ends (tests pass an InMemorySpanExporter). */
  spanExporter?: SpanExporter | undefined;
  /** How often metrics are pushed over OTLP (OTEL_METRIC_EXPORT_INTERVAL, default 60 s). */
  metricExportIntervalMs?: number | undefined;
  /** Where the SDK's own warnings and errors go (failed exports, slow callbacks). */
  log?: Logger | undefined;
}

export interface Telemetry {
  readonly serviceName: string;
  /** The current metrics in the Prometheus text exposition format (what GET /metrics serves). */
  prometheusText(): Promise<string>;
  /**
   * Gives up this holder's use. The last holder flushes pending exports and
   * unregisters the providers: metrics then record nothing and spans are not sampled.
   */
  shutdown(): Promise<void>;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

let current: { telemetry: Telemetry; holders: number } | undefined;

function diagLogger(log: Logger): DiagLogger {
  const child = log.child({ component: 'otel' });
  return {
    error: (message, ...args) => child.error({ args }, message),
    warn: (message, ...args) => child.warn({ args }, message),
    info: (message, ...args) => child.debug({ args }, message),
    debug: () => undefined,
    verbose: () => undefined,
  };
}

/**
 * Starts OpenTelemetry for this process: a MeterProvider read by Prometheus
 * (served by the gateway at GET /metrics, never a server of its own) and, when
 * an OTLP endpoint is given, pushed over OTLP/HTTP; and a tracer provider,
 * registered globally through @opentelemetry/api. No auto-instrumentation:
 * Vigil's own spans and instruments only (see src/telemetry/metrics.ts and spans.ts).
 *
 * One telemetry per process: starting it again while it runs throws; use
 * `retainTelemetry` to share the running one.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (current) throw new Error('telemetry is already started in this process');
  if (options.log) diag.setLogger(diagLogger(options.log), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const resource = resourceFromAttributes({
    'service.name': options.serviceName,
    'service.instance.id': `${hostname()}:${process.pid}`,
  });
  const otlp = options.otlpEndpoint?.replace(/\/+$/, '');

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer();
  const readers: IMetricReader[] = [prometheus];
  if (otlp) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${otlp}/v1/metrics` }),
        exportIntervalMillis: options.metricExportIntervalMs ?? (Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000),
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });

  const spanProcessors: SpanProcessor[] = [];
  if (otlp) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces` })));
  if (options.spanExporter) spanProcessors.push(new SimpleSpanProcessor(options.spanExporter));
  // Registered even with nowhere to send spans: publishEvents still needs real span
  // contexts to put in the traceparent header, so the worker continues the caller's trace.
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors });

  // A provider left registered (a telemetry never shut down in this process) is replaced: this process's spans are ours.
  if (!metrics.setGlobalMeterProvider(meterProvider)) {
    metrics.disable();
    metrics.setGlobalMeterProvider(meterProvider);
  }
  if (!trace.setGlobalTracerProvider(tracerProvider)) {
    trace.disable();
    trace.setGlobalTracerProvider(tracerProvider);
  }
  installMetrics(meterProvider.getMeter('vigil'));

  const telemetry: Telemetry = {
    serviceName: options.serviceName,
    async prometheusText() {
      const { resourceMetrics, errors } = await prometheus.collect();
      if (errors.length > 0) diag.warn('metrics collection errors', ...errors);
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      if (!current || current.telemetry !== telemetry) return;
      if (--current.holders > 0) return;
      current = undefined;
      uninstallMetrics();
      trace.disable();
      metrics.disable();
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      diag.disable();
    },
  };
  current = { telemetry, holders: 1 };
  return telemetry;
}

/** The running telemetry, with one more holder (each holder calls shutdown once), or undefined. */
export function retainTelemetry(): Telemetry | undefined {
  if (!current) return undefined;
  current.holders++;
  return current.telemetry;
}

/** The running telemetry, if any (for GET /metrics). */
export function currentTelemetry(): Telemetry | undefined {
  return current?.telemetry;
}

const DISABLED: Telemetry = {
  serviceName: 'disabled',
  prometheusText: async () => '# telemetry is disabled (OTEL_SDK_DISABLED)\n',
  shutdown: async () => undefined,
};

/**
 * What a Vigil process uses: the running telemetry if a caller (a test)
 * started one, else a new one from the environment (OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_ENDPOINT; OTEL_SDK_DISABLED=true for none at all).
 */
export function telemetryFromEnvironment(log: Logger, env: Record<string, string | undefined> = process.env): Telemetry {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return DISABLED;
  return (
    retainTelemetry() ??
    startTelemetry({
      serviceName: env.OTEL_SERVICE_NAME || 'vigil',
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
      log,
    })
  );
}

/** The Prometheus text of the running telemetry, as an HTTP answer (GET /metrics). */
export async function metricsResponse(): Promise<{ status: number; contentType: string; body: string }> {
  const telemetry = currentTelemetry();
  if (!telemetry) return { status: 503, contentType: 'text/plain; charset=utf-8', body: 'telemetry is not started\n' };
  return { status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: await telemetry.prometheusText() };
}

/**
 * GET /metrics on a port of its own, for a process without the gateway
 * (`vigil worker`), so Prometheus can scrape every process.
 */
export async function serveMetrics(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metricsResponse().then(
      ({ status, contentType, body }) => response.writeHead(status, { 'content-type': contentType }).end(body),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`# metrics collection failed: ${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
