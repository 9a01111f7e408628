// Every configuration file shipped under config/examples/ passes the same checks as
// `config check`: the schema (all keys, device options, shared serial ports) and the
// profiles its lanes name. An example that drifts from the schema fails here.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/config/load.js';
import { resolveLaneProfiles } from '../../../gateway/config/profiles.js';

const dir = path.resolve('config/examples');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

describe('config/examples', () => {
  it('holds at least the real-device example', () => {
    expect(files).toContain('mine-entrance-real-devices.yaml');
  });

  it.each(files)('%s passes the config check', (file) => {
    const loaded = loadConfig(path.join(dir, file), {});
    expect(() => resolveLaneProfiles(loaded)).not.toThrow();
    expect(loaded.config.lanes.length).toBeGreaterThan(0);
  });

  it('configures real devices only, with stable paths, and a TLS broker, in the real-device example', () => {
    const { config } = loadConfig(path.join(dir, 'mine-entrance-real-devices.yaml'), {});
    const lane = config.lanes[0]!;
    expect([lane.scanner.type, lane.thermometer.type, lane.relay.type, lane.passageSensor?.type]).toEqual(['gm65', 'lu90614', 'modbus', 'modbus-input']);
    for (const d of [lane.scanner, lane.thermometer, lane.relay, lane.passageSensor]) expect(d).toMatchObject({ path: expect.stringMatching(/^\/dev\/serial\/by-id\//) });
    expect(config.mqtt.url).toMatch(/^mqtts:\/\//);
    expect(config.mqtt.tls?.ca).toBeDefined();
    expect(config.mqtt.embeddedFallback).toBe(false);
  });
});
