// The signed-in shell: the nav, the page registry (one module per page), live refresh and
// sign-out. Live: the page re-renders when /api/stream says its data changed, and every
// 30 s as a fallback.
import { $, csrf, onRefresh, setBackground, showError, type Page } from './lib.js';
import { alertsPage } from './page-alerts.js';
import { chartsPage } from './page-charts.js';
import { auditPage } from './page-audit.js';
import { checkpointsPage } from './page-checkpoints.js';
import { tracingPage } from './page-tracing.js';
import { visitorsPage } from './page-visitors.js';
import { screeningPage } from './page-screening.js';

const PAGES: Record<string, Page> = {
  checkpoints: checkpointsPage,
  alerts: alertsPage,
  charts: chartsPage,
  tracing: tracingPage,
  audit: auditPage,
  visitors: visitorsPage,
  screening: screeningPage,
};
const FALLBACK_REFRESH_MS = 30_000;

let currentPage = '';
let loading = false;
let again = false;
let againAuto = true;

async function refreshPage(auto = false): Promise<void> {
  if (loading) {
    again = true;
    againAuto = againAuto && auto; // a queued click stays a click
    return;
  }
  loading = true;
  setBackground(auto);
  try {
    const content = $('content');
    $('load-error').hidden = true;
    const page = PAGES[currentPage];
    if (page !== undefined) {
      await page.render(content);
      content.dataset['loaded'] = String(Date.now());
    }
  } catch (err) {
    showError(err);
  } finally {
    loading = false;
    setBackground(false);
    if (again) {
      const next = againAuto;
      again = false;
      againAuto = true;
      void refreshPage(next);
    }
  }
}
onRefresh((auto) => refreshPage(auto));

function show(): void {
  const wanted = location.hash.slice(1);
  const page = wanted in PAGES ? wanted : 'checkpoints';
  $('page-title').textContent = PAGES[page]?.title ?? '';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('.nav a')) {
    if (a.dataset['page'] === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (page !== currentPage) $('content').replaceChildren();
  currentPage = page;
  void refreshPage();
}
window.addEventListener('hashchange', show);
show();

// Live: a notice says what changed; re-render if it concerns the page shown.
const stream = new EventSource('/api/stream');
stream.addEventListener('changed', (e) => {
  const { changed } = JSON.parse((e as MessageEvent<string>).data) as { changed: string[] };
  if (PAGES[currentPage]?.refreshOn(changed) === true) void refreshPage(true);
});
setInterval(() => void refreshPage(true), FALLBACK_REFRESH_MS);

$('sign-out').addEventListener('click', () => {
  stream.close();
  void fetch('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': csrf } }).finally(() => location.assign('/sign-in'));
});
