// The signed-in shell: the nav (pages to come in later slices) and sign-out with the
// session's CSRF token (DELETE /api/session).
const PAGES: Record<string, string> = {
  checkpoints: '检查站 · Checkpoints',
  alerts: '告警 · Alerts',
  screening: '每日筛查 · Screening',
  visitors: '访客与外包 · Visitors',
  tracing: '流调 · Tracing',
  charts: '图表 · Charts',
  audit: '审计 · Audit',
};

function show(): void {
  const wanted = location.hash.slice(1);
  const page = wanted in PAGES ? wanted : 'checkpoints';
  (document.getElementById('page-title') as HTMLElement).textContent = PAGES[page] ?? '';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('.nav a')) {
    if (a.dataset['page'] === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}
window.addEventListener('hashchange', show);
show();

const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
document.getElementById('sign-out')?.addEventListener('click', () => {
  void fetch('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': csrf } }).finally(() => location.assign('/sign-in'));
});
