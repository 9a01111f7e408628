import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ModbusPassageSensor } from '../../../drivers/sensor/modbus-input.js';
import { SimPassageSensor } from '../../../drivers/sensor/sim-sensor.js';
import { passageSensorConfig, relayConfig, scannerConfig, sharedDeviceIssues, thermometerConfig, type PassageSensorConfig } from '../../../gateway/config/device-schema.js';
import { buildPassageSensor } from '../../../gateway/devices.js';

const PATH = '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0';

function messagesOf(input: unknown): string[] {
  const r = passageSensorConfig.safeParse(input);
  if (r.success) throw new Error('expected the passage sensor configuration to be refused');
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('passage sensor configuration', () => {
  it('accepts the sim sensor of the demo', () => {
    expect(passageSensorConfig.parse({ type: 'sim' })).toEqual({ type: 'sim' });
  });

  it('fills in the defaults of a Modbus input sensor: address 1, active high, 50 ms polls, 40 ms debounce', () => {
    expect(passageSensorConfig.parse({ type: 'modbus-input', path: PATH, input: 2 })).toEqual({
      type: 'modbus-input',
      path: PATH,
      baudRate: 9600,
      parity: 'none',
      stopBits: 1,
      reconnect: { initialMs: 100, maxMs: 1000 },
      address: 1,
      input: 2,
      activeLow: false,
      pollMs: 50,
      minActiveMs: 40,
      stuckAfterMs: 30_000,
      replyTimeoutMs: 200,
    });
  });

  it('asks for the input number the sensor is wired to, from 1 to 64', () => {
    expect(messagesOf({ type: 'modbus-input', path: PATH })).toEqual([expect.stringContaining('input: expected the input number')]);
    expect(messagesOf({ type: 'modbus-input', path: PATH, input: 0 })).toEqual(['input: expected an input from 1']);
    expect(messagesOf({ type: 'modbus-input', path: PATH, input: 65 })).toEqual(['input: expected an input up to 64']);
  });

  it('refuses polls, debounce and addresses outside their ranges, listing every problem', () => {
    const problems = messagesOf({ type: 'modbus-input', path: PATH, input: 1, address: 248, pollMs: 10, minActiveMs: 2001 });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['address', 'pollMs', 'minActiveMs']);
  });

  it('refuses a relative device path, an unknown key and an unknown type', () => {
    expect(messagesOf({ type: 'modbus-input', path: 'ttyUSB0', input: 1 })[0]).toContain('absolute device path');
    expect(messagesOf({ type: 'modbus-input', path: PATH, input: 1, channel: 1 })[0]).toMatch(/channel/);
    expect(messagesOf({ type: 'gpio' })).toEqual(['type: expected type "sim" or "modbus-input"']);
  });
});

describe('one device per serial port, passage sensors included', () => {
  const lane = (relayPath: string, sensor?: PassageSensorConfig) => ({
    scanner: scannerConfig.parse({ type: 'sim' }),
    thermometer: thermometerConfig.parse({ type: 'sim' }),
    relay: relayConfig.parse({ type: 'modbus', path: relayPath, profile: 'coils' }),
    ...(sensor ? { passageSensor: sensor } : {}),
  });

  it('refuses a passage sensor on the port of a lane relay, naming both', () => {
    const sensor = passageSensorConfig.parse({ type: 'modbus-input', path: '/dev/ttyRELAY', input: 1 });
    expect(sharedDeviceIssues([lane('/dev/ttyRELAY', sensor)])).toEqual([
      { path: [0, 'passageSensor'], message: 'expected a device of its own; serial /dev/ttyRELAY is already used by lanes[0].relay' },
    ]);
  });

  it('refuses two lanes whose sensors share a port, and accepts lanes without a sensor or with sim ones', () => {
    const sensor = passageSensorConfig.parse({ type: 'modbus-input', path: '/dev/ttyIO', input: 1 });
    expect(sharedDeviceIssues([lane('/dev/ttyA', sensor), lane('/dev/ttyB', sensor)])).toEqual([
      { path: [1, 'passageSensor'], message: 'expected a device of its own; serial /dev/ttyIO is already used by lanes[0].passageSensor' },
    ]);
    expect(sharedDeviceIssues([lane('/dev/ttyA'), lane('/dev/ttyB', passageSensorConfig.parse({ type: 'sim' }))])).toEqual([]);
  });
});

describe('passage sensor from its configuration', () => {
  const deps = { logger: pino({ level: 'silent' }) };

  it('builds the sim sensor for type sim', () => {
    expect(buildPassageSensor(passageSensorConfig.parse({ type: 'sim' }), deps)).toBeInstanceOf(SimPassageSensor);
  });

  it('builds the Modbus input driver polling the configured module and input', () => {
    const sensor = buildPassageSensor(passageSensorConfig.parse({ type: 'modbus-input', path: PATH, address: 4, input: 8 }), deps);
    expect(sensor).toBeInstanceOf(ModbusPassageSensor);
    expect((sensor as ModbusPassageSensor).pollFrame.subarray(0, 6)).toEqual(Buffer.from('040200070001', 'hex'));
    expect(sensor.status.state).toBe('disconnected');
  });
});
