/** Prometheus metrics of `convnext serve` (prom-client, in a registry of the server's own). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's metrics. */
export interface ServeMetrics {
  readonly registry: Registry;
  /** Requests answered, by route and status code. */
  readonly requests: Counter<'route' | 'status'>;
  /** Request latency in seconds (arrival to answer), by route. */
  readonly latency: Histogram<'route'>;
  /** Images per engine run. */
  readonly batchSize: Histogram;
  /** Images waiting for a run. */
  readonly queueDepth: Gauge;
  /** Requests whose client disconnected before the answer. */
  readonly disconnects: Counter;
}

/** Fresh metrics in a new registry, with the process's default metrics (CPU, memory, event loop). */
export function createMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'convnext_' });
  return {
    registry,
    requests: new Counter({ name: 'convnext_requests_total', help: 'Requests answered, by route and status code', labelNames: ['route', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'convnext_request_duration_seconds', help: 'Request latency from arrival to answer', labelNames: ['route'], registers: [registry],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    batchSize: new Histogram({ name: 'convnext_batch_size', help: 'Images per engine run', buckets: [1, 2, 4, 8, 16, 32, 64], registers: [registry] }),
    disconnects: new Counter({ name: 'convnext_client_disconnects_total', help: 'Requests whose client went away before the answer (an image still waiting is withdrawn from its batch)', registers: [registry] }),
    queueDepth: new Gauge({ name: 'convnext_queue_depth', help: 'Images waiting for an engine run', registers: [registry] }),
  };
}
