import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { offFrames } from '../../../drivers/relay/all-off.js';
import { hostTimedRelays } from '../../../gateway/boot/early-off.js';

const config = parse(`
lanes:
  - id: in-1
    relay: { type: lcus, path: /dev/checkpoint/relay, channel: 2, baudRate: 19200 }
  - id: in-2
    relay: { type: lcus, path: /dev/checkpoint/relay }
  - id: in-3
    relay: { type: dcttech-hid, serial: HURTM, channel: 3 }
  - id: in-4
    relay: { type: modbus, path: /dev/checkpoint/rs485, profile: coils }
  - id: in-5
    relay: { type: sim }
  - id: in-6
    relay: { type: lcus, path: relative/not-a-device }
`);

describe('the early all-off', () => {
  it('finds the host-timed relays of a config, one target per port or board, and leaves out self-timed Modbus boards', () => {
    expect(hostTimedRelays(config)).toEqual([
      { kind: 'lcus', path: '/dev/checkpoint/relay', baudRate: 19200, parity: 'none', stopBits: 1, channels: [2, 1] },
      { kind: 'dcttech-hid', vendorId: 0x16c0, productId: 0x05df, serial: 'HURTM', channels: [3] },
    ]);
  });

  it('sends A0 CH 00 SUM per LCUS channel and the 9-byte FD N feature report per dcttech relay (devices.md)', () => {
    const [lcus, hid] = hostTimedRelays(config);
    expect(offFrames(lcus!).map((f) => f.toString('hex'))).toEqual(['a00200a2', 'a00100a1']);
    expect(offFrames(hid!).map((f) => f.toString('hex'))).toEqual(['00fd03000000000000']);
  });

  it('reads nothing out of a document without lanes or with broken relay entries', () => {
    expect(hostTimedRelays(null)).toEqual([]);
    expect(hostTimedRelays({ lanes: 'x' })).toEqual([]);
    expect(hostTimedRelays({ lanes: [{ relay: { type: 'lcus', path: '/dev/x', channel: 9 } }, { relay: 'lcus' }] })).toEqual([]);
  });
});
