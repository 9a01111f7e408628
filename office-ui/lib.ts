// Shared by the console's pages: DOM helpers, bilingual labels, the API call (401 → sign-in),
// and the hooks a page uses to ask the shell for a re-render.
export const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
export const role = document.body.dataset['role'] ?? 'viewer';
export const canAck = role === 'duty-leader' || role === 'admin';
export const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

export type Attrs = Record<string, string>;
export function el(tag: string, attrs: Attrs = {}, ...children: (Node | string | null)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}
/** Chinese first, English second and quieter. */
export const bi = (zh: string, en: string): DocumentFragment => {
  const f = document.createDocumentFragment();
  f.append(`${zh} `, el('span', { class: 'en' }, en));
  return f;
};

export function duration(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return '<1 min';
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  if (d > 0) return `${d} d ${h} h`;
  return h > 0 ? `${h} h ${m % 60} min` : `${m} min`;
}
export const time = (iso: string | null): string => (iso === null ? '—' : new Date(iso).toLocaleString('zh-CN', { hour12: false }));


/** One page of the console: what it shows and which live notices concern it. */
export interface Page {
  title: string;
  render(content: HTMLElement): Promise<void>;
  /** Whether a live notice (kinds of data that changed) should re-render the page. */
  refreshOn(changed: readonly string[]): boolean;
}

let background = false;
/** Set by the shell around an automatic re-render: such GETs do not count as activity. */
export function setBackground(b: boolean): void {
  background = b;
}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  // An automatic re-fetch does not count as activity for the session's idle timeout.
  const res = await fetch(path, background && (init?.method ?? 'GET') === 'GET' ? { ...init, headers: { 'x-console-background': '1' } } : init);
  if (res.status === 401) {
    location.assign('/sign-in');
    throw new Error('signed out');
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${body.error?.code ?? res.status}: ${body.error?.message ?? ''}`);
  return body;
}

export function showError(err: unknown): void {
  const p = $('load-error');
  p.textContent = `加载失败 Failed: ${(err as Error).message}`;
  p.hidden = false;
}

let rerender: (auto: boolean) => Promise<void> = async () => undefined;
/**
 * The shell's re-render of the page shown: after an action changed its data, or `auto`
 * (a page's own deferred live update: its GETs then do not count as activity).
 */
export function refresh(auto = false): Promise<void> {
  return rerender(auto);
}
export function onRefresh(fn: (auto: boolean) => Promise<void>): void {
  rerender = fn;
}
