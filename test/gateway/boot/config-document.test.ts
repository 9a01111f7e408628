// The configuration is parsed once per start: the early relay all-off keeps its parse and
// the full check takes it for the same text. The parse keeps what the all-off needs from a
// file with duplicate keys or a syntax error further down, and every problem for the check.
import { describe, expect, it } from 'vitest';
import { parseAndKeep, takeParse } from '../../../gateway/boot/config-document.js';
import { hostTimedRelays } from '../../../gateway/boot/early-off.js';

const TEXT = `lanes:
  - id: in-1
    relay: { type: lcus, path: /dev/checkpoint/old }
    relay: { type: lcus, path: /dev/checkpoint/relay, channel: 2 }
site: a
site: b
broken: [
`;

describe('the configuration parsed once for the early all-off and the check', () => {
  it('gives the all-off the relays a file names despite duplicate keys and a syntax error below them, and the check every problem', () => {
    const { doc } = parseAndKeep(TEXT);
    expect(hostTimedRelays(doc.toJS())).toEqual([{ kind: 'lcus', path: '/dev/checkpoint/relay', baudRate: 9600, parity: 'none', stopBits: 1, channels: [2] }]);
    expect(doc.errors.map((e) => e.code)).toEqual(expect.arrayContaining(['DUPLICATE_KEY', 'BAD_INDENT']));
    takeParse('');
  });

  it('hands the kept parse to the check once, for the same text only', () => {
    const kept = parseAndKeep(TEXT);
    expect(takeParse(TEXT)).toBe(kept);
    const again = takeParse(TEXT);
    expect(again).not.toBe(kept);
    expect(again.doc.toJS()).toEqual(kept.doc.toJS());
    const second = parseAndKeep(TEXT);
    expect(takeParse(`${TEXT}# edited\n`)).not.toBe(second);
    // The edited text's taker dropped what was kept: nothing stays for later.
    expect(takeParse(TEXT)).not.toBe(second);
  });
});
