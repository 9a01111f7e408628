// Prometheus metrics of one service instance (its own registry, so tests can run several).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface CentralMetrics {
  registry: Registry;
  received: Counter<'type'>;
  committed: Counter<'type'>;
  duplicates: Counter;
  conflicts: Counter;
  rejected: Counter;
  batchSize: Histogram;
  commitSeconds: Histogram;
  commitFailures: Counter;
  backlog: Gauge;
  gapsOpen: Gauge;
  resendsRequested: Counter;
  seqSkipped: Counter;
}

export function createMetrics(defaults = true): CentralMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'central_' });
  const r = [registry];
  return {
    registry,
    received: new Counter({ name: 'central_messages_received_total', help: 'MQTT messages received, by type', labelNames: ['type'], registers: r }),
    committed: new Counter({ name: 'central_rows_committed_total', help: 'rows committed, by message type', labelNames: ['type'], registers: r }),
    duplicates: new Counter({ name: 'central_duplicates_total', help: 'redelivered events/alerts with identical content, ignored', registers: r }),
    conflicts: new Counter({ name: 'central_integrity_conflicts_total', help: 'an id received again with different content (kept aside)', registers: r }),
    rejected: new Counter({ name: 'central_rejected_messages_total', help: 'messages failing the schema, stored in rejected_messages', registers: r }),
    batchSize: new Histogram({ name: 'central_batch_size', help: 'messages per commit', buckets: [1, 5, 20, 50, 100, 200, 500, 1000, 2000, 5000], registers: r }),
    commitSeconds: new Histogram({ name: 'central_commit_seconds', help: 'time of one batch transaction', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: r }),
    commitFailures: new Counter({ name: 'central_commit_failures_total', help: 'batch transactions that failed (retried, nothing acked)', registers: r }),
    backlog: new Gauge({ name: 'central_backlog', help: 'messages received and not yet committed (unacknowledged)', registers: r }),
    gapsOpen: new Gauge({ name: 'central_gaps_open', help: 'checkpoints with an open seq gap', registers: r }),
    resendsRequested: new Counter({ name: 'central_resends_requested_total', help: 'signed resend requests published', registers: r }),
    seqSkipped: new Counter({ name: 'central_seq_skipped_total', help: 'seqs given up: still missing after the gateway answered a resend (not in its ledger)', registers: r }),
  };
}
