// How fast a decision reaches the kiosk: from the ledger commit (bus 'ledger' event) to
// the server-sent event arriving at a client of GET /api/stream, for a whole in-process
// gateway on the demo config. Baseline in the same run: a bare node:http SSE stream
// writing one event on demand, timed the same way. The kiosk issue asks for ≤ 100 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadConfig } from '../gateway/config/load.js';
import { startGateway } from '../gateway/gateway.js';
import { row, summarize } from './stats.js';

const N = Number(process.env.BENCH_KIOSK_N ?? 300);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** Calls onEvent(data) for every `data:` line of an SSE response. */
async function readSse(url: string, onEvent: (data: string) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of block.split('\n')) if (line.startsWith('data: ')) onEvent(line.slice(6));
        }
      }
    } catch {
      // aborted at the end of the run
    }
  })();
}

function waiter() {
  let resolve: (v: number) => void = () => {};
  const promise = new Promise<number>((r) => (resolve = r));
  return { promise, resolve };
}

export async function benchKioskLatency(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-kiosk-'));
  const loaded = loadConfig(path.join(root, 'config/gateway.yaml'), { DATA_DIR: dataDir, HTTP_PORT: '0' });
  const gw = await startGateway(loaded, { logger: pino({ level: 'silent' }) });
  const abort = new AbortController();
  try {
    const lane = gw.lanes[0]!;
    let committedAt = 0;
    let pending = waiter();
    let lastSeen = '';
    gw.bus.on('ledger', () => (committedAt = performance.now()));
    await readSse(`${gw.url}/api/stream?lane=${lane.id}`, (data) => {
      const snap = JSON.parse(data) as { last: { eventId: string } | null };
      if (snap.last && snap.last.eventId !== lastSeen) {
        lastSeen = snap.last.eventId;
        pending.resolve(performance.now() - committedAt);
      }
    }, abort.signal);
    await new Promise((r) => setTimeout(r, 200)); // the initial snapshot
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      pending = waiter();
      // An unknown code is referred at once: no signature, no temperature needed.
      lane.sim!.scan(`bench-unknown-${i}`);
      latencies.push(await pending.promise);
    }
    console.log(row('gateway: ledger commit → SSE at the kiosk client', summarize(latencies, performance.now() - t0)));
  } finally {
    abort.abort();
    await gw.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  // Baseline: the same measurement against a bare SSE server.
  const clients: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': hello\n\n');
    clients.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = new AbortController();
  try {
    let pending = waiter();
    let sentAt = 0;
    await readSse(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, () => pending.resolve(performance.now() - sentAt), base.signal);
    await new Promise((r) => setTimeout(r, 200));
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      pending = waiter();
      sentAt = performance.now();
      for (const c of clients) c.write(`event: lane\ndata: {"last":{"eventId":"${i}"}}\n\n`);
      latencies.push(await pending.promise);
    }
    console.log(row('baseline: bare node:http SSE write → client', summarize(latencies, performance.now() - t0)));
  } finally {
    base.abort();
    for (const c of clients) c.end();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
