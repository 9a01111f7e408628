// Issue 10: docs/deploy.md gave the coil of the device-timed flash as `0x0200+ch`, which
// reads as 0x0201 for channel 1 (channels are 1-based in the config). On the wire it is
// 0x0200 + channel − 1 (devices.md: relay 1, 0.7 s = 01 05 02 00 00 07 8D B0). These
// tests hold the frame builder and every flash example in the deploy guide to that.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { coilFlash } from '../../../drivers/relay/modbus-frames.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const deployMd = readFileSync(path.resolve(import.meta.dirname, '../../../docs/deploy.md'), 'utf8');

describe('the coil of the Modbus "flash on" command', () => {
  it('is 0x0200 for channel 1, 0x0201 for channel 2 and 0x0207 for channel 8, byte for byte', () => {
    expect(coilFlash(1, 1, 700)).toEqual(hex('01 05 02 00 00 07 8D B0'));
    expect(coilFlash(1, 2, 1000)).toEqual(hex('01 05 02 01 00 0A 1D B5'));
    expect(coilFlash(3, 4, 500)).toEqual(hex('03 05 02 03 00 05 FD 93'));
    expect(coilFlash(1, 8, 100).subarray(2, 4)).toEqual(hex('02 07'));
  });

  it('is documented in docs/deploy.md as 0x0200 + channel − 1, with examples the driver really sends', () => {
    expect(deployMd).not.toMatch(/0x0200\s*\+\s*ch\b(?!annel)/);
    expect(deployMd).toContain('`0x0200 + channel − 1`');
    const examples = [...deployMd.matchAll(/[Aa]ddress (\d+), channel (\d+), ([\d.]+) s: `((?:[0-9A-F]{2} ){7}[0-9A-F]{2})`/g)];
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const [, address, channel, seconds, frame] of examples) {
      expect(coilFlash(Number(address), Number(channel), Number(seconds) * 1000), `address ${address}, channel ${channel}, ${seconds} s`).toEqual(hex(frame!));
    }
  });
});
