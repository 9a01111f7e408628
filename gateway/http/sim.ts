// /api/sim/...: drive simulated devices over HTTP (demo, tests, benches). Mounted only
// when the gateway runs simulated devices, so a real installation has no such routes.
import { Router, type Response } from 'express';
import { parseBody, jsonBody } from './body.js';
import { z } from 'zod';
import type { LaneHandle, LaneSimControls } from '../lane/types.js';
import { HttpError } from './errors.js';

// The body parser lives in body.ts; re-exported for the modules that took it from here.
export { JSON_BODY_LIMIT, jsonBody, parseBody } from './body.js';

export const SCAN_MAX_CHARS = 4096;
export const CELSIUS_MIN = -50;
export const CELSIUS_MAX = 150;

const scanBody = z.object(
  {
    payload: z
      .string({ error: `expected a string of 1 to ${SCAN_MAX_CHARS} characters` })
      .min(1, `expected a string of 1 to ${SCAN_MAX_CHARS} characters`)
      .max(SCAN_MAX_CHARS, `expected a string of 1 to ${SCAN_MAX_CHARS} characters`),
  },
  { error: 'expected a JSON object like {"payload": "..."}' },
);

const temperatureRange = `expected a finite number of degrees Celsius from ${CELSIUS_MIN} to ${CELSIUS_MAX}`;
const temperatureBody = z.object(
  {
    celsius: z.number({ error: temperatureRange }).min(CELSIUS_MIN, temperatureRange).max(CELSIUS_MAX, temperatureRange),
  },
  { error: 'expected a JSON object like {"celsius": 36.6}' },
);

const deviceStateBody = z.object(
  { state: z.enum(['connected', 'disconnected', 'fault'], { error: 'expected one of connected, disconnected, fault' }) },
  { error: 'expected a JSON object like {"state": "disconnected"}' },
);

function simOf(res: Response): LaneSimControls {
  return res.locals['sim'] as LaneSimControls;
}

export function simRouter(lanes: readonly LaneHandle[]): Router {
  const router = Router();

  // Runs before any route of the lane, so an unknown lane is 404 whatever the body.
  router.param('lane', (_req, res, next, id: string) => {
    const lane = lanes.find((l) => l.id === id);
    if (lane === undefined) {
      throw new HttpError(404, 'LANE_UNKNOWN', `no lane '${id}'; lanes: ${lanes.map((l) => l.id).join(', ') || '(none)'}`);
    }
    if (lane.sim === null) {
      throw new HttpError(404, 'LANE_NOT_SIMULATED', `lane '${id}' has real devices; it has no simulation controls`);
    }
    res.locals['sim'] = lane.sim;
    next();
  });

  const scanExample = '{"payload": "..."}';
  router.post('/lanes/:lane/scan', jsonBody(scanExample), (req, res) => {
    const body = parseBody(scanBody, req, scanExample);
    simOf(res).scan(body.payload);
    res.status(202).json({ accepted: true });
  });

  const temperatureExample = '{"celsius": 36.6}';
  router.post('/lanes/:lane/temperature', jsonBody(temperatureExample), (req, res) => {
    const body = parseBody(temperatureBody, req, temperatureExample);
    simOf(res).temperature(body.celsius);
    res.status(202).json({ accepted: true });
  });

  // Someone walks through the lane's simulated passage sensor (no body).
  router.post('/lanes/:lane/passage', (_req, res) => {
    const sim = simOf(res);
    if (sim.passage === undefined) throw new HttpError(404, 'NOT_FOUND', 'this lane has no simulated passage sensor (passageSensor: { type: sim })');
    sim.passage();
    res.status(202).json({ accepted: true });
  });

  router.get('/lanes/:lane/relay', (_req, res) => {
    res.json({ pulses: simOf(res).relayPulses() });
  });

  // Fault knob for demos and browser tests: unplug, break or replug one simulated device.
  const deviceExample = '{"state": "disconnected"}';
  router.post('/lanes/:lane/devices/:device', jsonBody(deviceExample), (req, res) => {
    const device = String(req.params['device']);
    if (device !== 'scanner' && device !== 'thermometer' && device !== 'relay' && device !== 'sensor') {
      throw new HttpError(404, 'NOT_FOUND', `no simulated device '${device}'; devices: scanner, thermometer, relay, sensor`);
    }
    const body = parseBody(deviceStateBody, req, deviceExample);
    const sim = simOf(res);
    if (sim.setDeviceState === undefined) throw new HttpError(404, 'NOT_FOUND', 'this lane has no device fault knob');
    if (device === 'sensor' && sim.passage === undefined) throw new HttpError(404, 'NOT_FOUND', 'this lane has no simulated passage sensor');
    sim.setDeviceState(device, body.state);
    res.status(202).json({ accepted: true });
  });

  return router;
}
