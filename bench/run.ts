// `npm run bench`: every benchmark, one after the other, printing figures. Never part
// of `npm test`: timings on shared machines are too noisy to assert on.
import { benchCentralIngest } from './central-ingest.js';
import { benchCentralQueries } from './central-queries.js';
import { benchDcc } from './dcc.js';
import { benchDecide } from './decide.js';
import { benchFootprint } from './footprint.js';
import { benchKioskLatency } from './kiosk-latency.js';
import { benchLedgerChain } from './ledger-chain.js';
import { benchLedgerRetention } from './ledger-retention.js';
import { benchLedgerGrowth } from './ledger-growth.js';
import { benchOutbox } from './outbox.js';
import { benchStartup } from './startup.js';

console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.log('\n# decide: one passage end to end (sequential)');
await benchDecide();
console.log('\n# dcc: one EU Digital COVID Certificate decoded and verified vs a bare node:crypto verify');
await benchDcc();
console.log('\n# ledger chain: migration 10 of an existing ledger, ledger verify, bytes per row');
await benchLedgerChain();
console.log('\n# ledger retention: decisions while 1 M expired rows are erased, then cut behind a checkpoint, vs none running');
await benchLedgerRetention();
console.log('\n# ledger growth: a 10 M-row ledger (BENCH_LEDGER_ROWS) against an empty one: searches, reports, replay, decide, start-up, size');
await benchLedgerGrowth();
console.log('\n# startup: process start to "ready" log line');
await benchStartup();
console.log('\n# footprint: RSS and heap after start, after 10 000 passages and after a simulated 24 h, 1/4/16 sim lanes; what grew');
await benchFootprint();
console.log('\n# outbox: drain a 100 000-event backlog to the local broker vs a raw mqtt.js loop');
await benchOutbox();
console.log('\n# kiosk: decision to server-sent event at the kiosk client');
await benchKioskLatency();
console.log('\n# central ingest: K simulated gateways → the office service (steady + reconnect burst) vs a raw subscriber and a raw batched insert');
await benchCentralIngest();
console.log('\n# central queries: the console\'s queries over 10 M events (12 months, ~100 checkpoints) vs a raw count of one day');
await benchCentralQueries();
