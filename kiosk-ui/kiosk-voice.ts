// Spoken prompts ("请通行", "禁止通行，体温偏高", "请测量体温"): people at gates listen
// rather than read. The browser's speech synthesis with a Chinese voice where the PC has
// one (Debian: speech-dispatcher + espeak-ng, and Chromium started with
// --enable-speech-dispatcher, see docs/kiosk.md); the tones of tones.ts where it has none.
import { pickVoice } from './kiosk-view.js';
import { playTone, type ToneKind } from './tones.js';

function synth(): SpeechSynthesis | null {
  return (window.speechSynthesis as SpeechSynthesis | undefined) ?? null;
}

let voices: readonly SpeechSynthesisVoice[] = [];

/** Chromium lists its voices only after a while: keep the list current. */
export function startVoice(): void {
  const s = synth();
  if (s === null) return;
  const load = (): void => {
    voices = s.getVoices();
  };
  load();
  s.addEventListener('voiceschanged', load);
}

/**
 * Says `text` in Chinese when a voice exists, else plays `tone` (if any). Never throws:
 * sound is a courtesy, the screen is the answer. Returns what it did.
 */
export function announce(text: string | null, tone: ToneKind | null): 'voice' | 'tone' | 'none' {
  const s = synth();
  if (s !== null && text !== null) {
    try {
      const voice = pickVoice(voices.length > 0 ? voices : s.getVoices());
      if (voice !== null) {
        s.cancel(); // the newest prompt wins over one still being spoken
        const u = new SpeechSynthesisUtterance(text);
        u.lang = 'zh-CN';
        u.voice = voice;
        s.speak(u);
        return 'voice';
      }
    } catch {
      // fall back to the tone
    }
  }
  if (tone === null) return 'none';
  playTone(tone);
  return 'tone';
}
