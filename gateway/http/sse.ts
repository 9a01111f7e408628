// GET /api/stream: server-sent events of lane snapshots. Every bus event is written at
// once (no batching, Nagle off) so the kiosk shows a decision within milliseconds.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { GatewayBus } from '../bus.js';
import type { LaneHandle, LaneSnapshot } from '../lane/types.js';

/**
 * A named `alive` event this often: the kiosk goes out of service after 3 s without any
 * event, so it notices a gateway that hangs with the connection open, not only one whose
 * connection breaks (a comment line would keep proxies awake but is invisible to EventSource).
 */
export const ALIVE_MS = 1_000;
/** A client this far behind is dropped; it reconnects and gets a fresh snapshot. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Browsers wait this long before reconnecting after the stream ends. */
const RETRY_MS = 2_000;

export interface StreamDeps {
  bus: GatewayBus;
  logger: Logger;
  /** What of a snapshot goes out (the open stream cuts it to the kiosk's view); default all. */
  view?: (s: LaneSnapshot) => LaneSnapshot;
}

function frame(s: LaneSnapshot): string {
  // JSON has no raw newlines, so one data line per event is enough.
  return `event: lane\ndata: ${JSON.stringify(s)}\n\n`;
}

/** Streams snapshots of `lanes` (one lane, or all of them) until the client goes away. */
export function streamLanes(req: Request, res: Response, lanes: readonly LaneHandle[], deps: StreamDeps): void {
  const ids = new Set(lanes.map((l) => l.id));
  req.socket.setNoDelay(true);
  req.socket.setTimeout(0);
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  // Tell a reverse proxy, if one is ever put in front, not to buffer the stream.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();

  let closed = false;
  const write = (chunk: string): void => {
    if (closed) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      deps.logger.warn({ lanes: [...ids] }, 'sse client too slow, dropping it');
      res.end();
    }
  };

  write(`retry: ${RETRY_MS}\n\n`);
  const view = deps.view ?? ((s: LaneSnapshot) => s);
  for (const lane of lanes) write(frame(view(lane.snapshot())));

  const unsubscribe = deps.bus.on('lane', (s) => {
    if (ids.has(s.lane)) write(frame(view(s)));
  });
  const heartbeat = setInterval(() => write('event: alive\ndata: {}\n\n'), ALIVE_MS);
  heartbeat.unref();

  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    deps.logger.debug({ lanes: [...ids] }, 'sse client gone');
  };
  res.on('close', cleanup);
  res.on('error', cleanup);
}
