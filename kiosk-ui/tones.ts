// Short tones for the kiosk, synthesised with Web Audio (no sound files to serve), played
// where the PC has no Chinese voice (kiosk-voice.ts).
// Admit: two rising notes. Refuse: two low falling notes. Refer: one middle note twice.
// Browsers start audio only after a user gesture unless the kiosk's Chromium runs with
// --autoplay-policy=no-user-gesture-required (see docs/kiosk.md); without it the screen
// still works, silently.

export type ToneKind = 'admit' | 'refuse' | 'refer';

interface Note {
  hz: number;
  /** seconds from the start of the tone */
  at: number;
  dur: number;
}

export const TONES: Record<ToneKind, { wave: OscillatorType; notes: Note[] }> = {
  admit: { wave: 'sine', notes: [{ hz: 880, at: 0, dur: 0.12 }, { hz: 1320, at: 0.14, dur: 0.18 }] },
  refuse: { wave: 'square', notes: [{ hz: 440, at: 0, dur: 0.22 }, { hz: 330, at: 0.26, dur: 0.32 }] },
  refer: { wave: 'triangle', notes: [{ hz: 660, at: 0, dur: 0.15 }, { hz: 660, at: 0.25, dur: 0.15 }] },
};

let ctx: AudioContext | null = null;

function context(): AudioContext | null {
  if (ctx !== null) return ctx;
  const Ctor = window.AudioContext as typeof AudioContext | undefined;
  if (Ctor === undefined) return null;
  ctx = new Ctor();
  // A touch or key anywhere unlocks audio where autoplay is blocked.
  const unlock = (): void => void ctx?.resume();
  window.addEventListener('pointerdown', unlock, { once: true });
  window.addEventListener('keydown', unlock, { once: true });
  return ctx;
}

/** Plays the tone; never throws (a kiosk without sound must still show the result). */
export function playTone(kind: ToneKind): void {
  try {
    const ac = context();
    if (ac === null) return;
    if (ac.state === 'suspended') void ac.resume();
    const t0 = ac.currentTime + 0.01;
    const { wave, notes } = TONES[kind];
    for (const n of notes) {
      const osc = ac.createOscillator();
      const gain = ac.createGain();
      osc.type = wave;
      osc.frequency.value = n.hz;
      // Short attack and release: no clicks.
      gain.gain.setValueAtTime(0, t0 + n.at);
      gain.gain.linearRampToValueAtTime(0.25, t0 + n.at + 0.01);
      gain.gain.setValueAtTime(0.25, t0 + n.at + n.dur - 0.03);
      gain.gain.linearRampToValueAtTime(0, t0 + n.at + n.dur);
      osc.connect(gain).connect(ac.destination);
      osc.start(t0 + n.at);
      osc.stop(t0 + n.at + n.dur + 0.01);
    }
  } catch {
    // Audio is a courtesy; the screen is the answer.
  }
}
