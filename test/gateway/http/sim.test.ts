import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, SensedSim, startHarness, T0, TestLane, type Harness } from './helpers.js';

function post(url: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

describe('simulated device routes', () => {
  let h: Harness;
  const beam = new SensedSim();
  beforeAll(async () => {
    h = await startHarness({ lanes: [new TestLane('north'), new TestLane('real', { sim: false }), new TestLane('beam', { sim: beam })], simEnabled: true });
  });
  afterAll(async () => {
    await h.close();
  });
  const url = (lane: string, what: string): string => `${h.url}/api/sim/lanes/${lane}/${what}`;

  it('accepts a scan with 202 and hands the payload to the lane', async () => {
    const res = await post(url('north', 'scan'), JSON.stringify({ payload: 'HC1:abc' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true });
    expect(h.lanes[0]!.sim!.scans).toEqual(['HC1:abc']);
  });

  it('accepts a scan payload of exactly 4096 characters', async () => {
    const payload = 'x'.repeat(4096);
    expect((await post(url('north', 'scan'), JSON.stringify({ payload }))).status).toBe(202);
    expect(h.lanes[0]!.sim!.scans.at(-1)).toBe(payload);
  });

  it('accepts a temperature with 202 and hands the reading to the lane', async () => {
    const res = await post(url('north', 'temperature'), JSON.stringify({ celsius: 36.6 }));
    expect(res.status).toBe(202);
    expect(h.lanes[0]!.sim!.temperatures).toEqual([36.6]);
  });

  it('accepts temperatures at both ends of the range', async () => {
    expect((await post(url('north', 'temperature'), '{"celsius":-50}')).status).toBe(202);
    expect((await post(url('north', 'temperature'), '{"celsius":150}')).status).toBe(202);
    expect(h.lanes[0]!.sim!.temperatures.slice(-2)).toEqual([-50, 150]);
  });

  it('lists the pulses the simulated relay received', async () => {
    h.lanes[0]!.sim!.pulses.push({ at: T0, ms: 800 });
    const res = await fetch(url('north', 'relay'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ pulses: [{ at: T0, ms: 800 }] });
  });

  it('walks someone through a lane\'s simulated passage sensor, and unplugs it', async () => {
    expect((await post(url('beam', 'passage'), '')).status).toBe(202);
    expect(beam.passages).toBe(1);
    expect((await post(url('beam', 'devices/sensor'), '{"state":"disconnected"}')).status).toBe(202);
    expect(beam.deviceStates).toEqual([['sensor', 'disconnected']]);
  });

  it('answers 404 for the passage sensor of a lane that has none', async () => {
    const res = await post(url('north', 'passage'), '');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toMatch(/no simulated passage sensor/);
  });

  const badScans: [string, string, string, RegExp][] = [
    ['a body that is not JSON', 'payload=abc', 'text/plain', /request body: expected JSON \(Content-Type: application\/json\)/],
    ['malformed JSON', '{"payload": ', 'application/json', /request body: expected a valid JSON object like \{"payload"/],
    ['a JSON array', '["abc"]', 'application/json', /request body: expected a JSON object like \{"payload"/],
    ['a missing payload', '{}', 'application/json', /body field 'payload': expected a string of 1 to 4096 characters, got nothing \(missing\)/],
    ['a misspelt field', '{"paylod":"abc"}', 'application/json', /body field 'payload': .*got nothing/],
    ['a number payload', '{"payload": 42}', 'application/json', /body field 'payload': expected a string.*got 42/],
    ['a null payload', '{"payload": null}', 'application/json', /body field 'payload': expected a string.*got null/],
    ['an empty payload', '{"payload": ""}', 'application/json', /body field 'payload': expected a string of 1 to 4096 characters, got an empty string/],
    ['a payload of 4097 characters', JSON.stringify({ payload: 'y'.repeat(4097) }), 'application/json', /body field 'payload': .*got a string of 4097 characters/],
  ];
  for (const [what, body, type, message] of badScans) {
    it(`refuses a scan with ${what} with 400 naming what was expected`, async () => {
      const before = h.lanes[0]!.sim!.scans.length;
      const res = await post(url('north', 'scan'), body, type);
      expect(res.status).toBe(400);
      const err = await errorOf(res);
      expect(err.code).toMatch(/^BAD_(BODY|JSON)$/);
      expect(err.message).toMatch(message);
      expect(h.lanes[0]!.sim!.scans.length).toBe(before);
    });
  }

  const badTemperatures: [string, string, string, RegExp][] = [
    ['a body that is not JSON', '36.6', 'text/plain', /request body: expected JSON .*\{"celsius": 36.6\}/],
    ['malformed JSON', '{celsius: 36.6}', 'application/json', /request body: expected a valid JSON object like \{"celsius": 36.6\}/],
    ['a missing celsius', '{"temp": 36.6}', 'application/json', /body field 'celsius': expected a finite number .* from -50 to 150, got nothing/],
    ['celsius as a string', '{"celsius": "36.6"}', 'application/json', /body field 'celsius': expected a finite number.*got "36.6"/],
    ['celsius as a boolean', '{"celsius": true}', 'application/json', /body field 'celsius': .*got true/],
    ['celsius above 150', '{"celsius": 150.1}', 'application/json', /body field 'celsius': .*from -50 to 150, got 150.1/],
    ['celsius below -50', '{"celsius": -51}', 'application/json', /body field 'celsius': .*got -51/],
    ['celsius that overflows to infinity', '{"celsius": 1e999}', 'application/json', /body field 'celsius': expected a finite number.*got Infinity/],
    ['a JSON null body', 'null', 'application/json', /request body: expected a valid JSON object like \{"celsius"/],
  ];
  for (const [what, body, type, message] of badTemperatures) {
    it(`refuses a temperature with ${what} with 400 naming what was expected`, async () => {
      const before = h.lanes[0]!.sim!.temperatures.length;
      const res = await post(url('north', 'temperature'), body, type);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(message);
      expect(h.lanes[0]!.sim!.temperatures.length).toBe(before);
    });
  }

  it('refuses a body larger than 16 kB with 413', async () => {
    const res = await post(url('north', 'scan'), JSON.stringify({ payload: 'z'.repeat(20_000) }));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('BODY_TOO_LARGE');
  });

  it('answers an unknown lane with 404 naming it, whatever the body', async () => {
    for (const res of [
      await post(url('west', 'scan'), '{"payload":"a"}'),
      await post(url('west', 'temperature'), 'not json'),
      await fetch(url('west', 'relay')),
    ]) {
      expect(res.status).toBe(404);
      const err = await errorOf(res);
      expect(err.code).toBe('LANE_UNKNOWN');
      expect(err.message).toContain("'west'");
    }
  });

  it('answers a lane with real devices with 404 naming the lane', async () => {
    const res = await post(url('real', 'scan'), '{"payload":"a"}');
    expect(res.status).toBe(404);
    const err = await errorOf(res);
    expect(err.code).toBe('LANE_NOT_SIMULATED');
    expect(err.message).toContain("lane 'real'");
  });
});

describe('simulated device routes when simulation is off', () => {
  it('do not exist', async () => {
    const h = await startHarness({ simEnabled: false });
    try {
      for (const res of [
        await post(`${h.url}/api/sim/lanes/north/scan`, '{"payload":"a"}'),
        await post(`${h.url}/api/sim/lanes/north/temperature`, '{"celsius":36.6}'),
        await fetch(`${h.url}/api/sim/lanes/north/relay`),
      ]) {
        expect(res.status).toBe(404);
        expect((await errorOf(res)).code).toBe('NOT_FOUND');
      }
      expect(h.lanes[0]!.sim!.scans).toEqual([]);
      expect(h.lanes[0]!.sim!.temperatures).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
