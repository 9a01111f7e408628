// The sign-in form: POST /api/session (same-origin, JSON), then the console shell.
const form = document.getElementById('sign-in-form') as HTMLFormElement;
const error = document.getElementById('sign-in-error') as HTMLParagraphElement;

const MESSAGES: Record<string, string> = {
  SIGN_IN_FAILED: '账号或密码错误 · Wrong id or password',
  ACCOUNT_LOCKED: '登录失败次数过多，账号已锁定 · Too many failed sign-ins: the account is locked',
};

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  error.hidden = true;
  const id = (document.getElementById('officer-id') as HTMLInputElement).value.trim();
  const password = (document.getElementById('password') as HTMLInputElement).value;
  void (async () => {
    try {
      const res = await fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, password }) });
      if (res.ok) {
        location.assign('/');
        return;
      }
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      const code = body.error?.code ?? '';
      error.textContent = MESSAGES[code] ?? `登录失败 · Sign-in failed (${body.error?.message ?? res.status})`;
    } catch {
      error.textContent = '无法连接服务器 · Cannot reach the server';
    }
    error.hidden = false;
  })();
});
