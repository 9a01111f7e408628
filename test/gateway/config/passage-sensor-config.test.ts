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

describe('one device per serial port, except Modbus devices sharing one RS-485 line', () => {
  const lane = (relayPath: string, sensor?: PassageSensorConfig, relay: Record<string, unknown> = {}) => ({
    scanner: scannerConfig.parse({ type: 'sim' }),
    thermometer: thermometerConfig.parse({ type: 'sim' }),
    relay: relayConfig.parse({ type: 'modbus', path: relayPath, profile: 'coils', ...relay }),
    ...(sensor ? { passageSensor: sensor } : {}),
  });
  const input = (path: string, more: Record<string, unknown> = {}) => passageSensorConfig.parse({ type: 'modbus-input', path, input: 1, ...more });

  it('accepts a passage sensor on the port of its lane relay, at the same address (a Relay (D) board) or another one', () => {
    expect(sharedDeviceIssues([lane('/dev/ttyRS485', input('/dev/ttyRS485'))])).toEqual([]);
    expect(sharedDeviceIssues([lane('/dev/ttyRS485', input('/dev/ttyRS485', { address: 2, input: 3 }))])).toEqual([]);
  });

  it('accepts Modbus relays and sensors of several lanes on one port when channels and inputs differ', () => {
    expect(
      sharedDeviceIssues([lane('/dev/ttyRS485', input('/dev/ttyRS485', { input: 1 })), lane('/dev/ttyRS485', input('/dev/ttyRS485', { input: 2 }), { channel: 2 })]),
    ).toEqual([]);
  });

  it('refuses two relays on one address and channel, and two sensors reading one input, naming the first', () => {
    expect(sharedDeviceIssues([lane('/dev/ttyRS485'), lane('/dev/ttyRS485')])).toEqual([
      { path: [1, 'relay'], message: 'expected a relay channel of its own; address 1 channel 1 on serial /dev/ttyRS485 is already driven by lanes[0].relay' },
    ]);
    expect(sharedDeviceIssues([lane('/dev/ttyA', input('/dev/ttyIO')), lane('/dev/ttyB', input('/dev/ttyIO'))])).toEqual([
      {
        path: [1, 'passageSensor'],
        message: 'expected an input of its own; address 1 input 1 on serial /dev/ttyIO is already read by lanes[0].passageSensor (one beam would be counted twice)',
      },
    ]);
  });

  it('refuses two relay profiles at one address of a shared port', () => {
    expect(sharedDeviceIssues([lane('/dev/ttyRS485'), lane('/dev/ttyRS485', undefined, { profile: 'registers', channel: 2 })])).toEqual([
      { path: [1, 'relay'], message: 'expected profile coils like lanes[0].relay: both drive the board at address 1 on serial /dev/ttyRS485, and a board has one profile' },
    ]);
  });

  it('refuses Modbus devices on one port whose serial settings differ, naming both and what must agree', () => {
    expect(sharedDeviceIssues([lane('/dev/ttyRS485', input('/dev/ttyRS485', { address: 2, baudRate: 19200, parity: 'even' }))])).toEqual([
      {
        path: [0, 'passageSensor'],
        message:
          'expected the serial settings of lanes[0].relay, which shares serial /dev/ttyRS485: baudRate 9600, parity none, stopBits 1; got baudRate 19200, parity even (Modbus devices on one port must agree on baudRate, parity and stopBits)',
      },
    ]);
  });

  it('still refuses any other sharing of a port, Modbus or not', () => {
    const sensor = input('/dev/ttyUSB0');
    const withScanner = { ...lane('/dev/ttyRS485', sensor), scanner: scannerConfig.parse({ type: 'line', path: '/dev/ttyUSB0' }) };
    expect(sharedDeviceIssues([withScanner])).toEqual([
      { path: [0, 'passageSensor'], message: 'expected a device of its own; serial /dev/ttyUSB0 is already used by lanes[0].scanner' },
    ]);
    const lcus = { ...lane('/dev/ttyA'), relay: relayConfig.parse({ type: 'lcus', path: '/dev/ttyIO' }) };
    expect(sharedDeviceIssues([lcus, lane('/dev/ttyB', input('/dev/ttyIO'))])).toEqual([
      { path: [1, 'passageSensor'], message: 'expected a device of its own; serial /dev/ttyIO is already used by lanes[0].relay' },
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
