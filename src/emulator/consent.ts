// The consent page a person sees at the emulator's /oauth2/authorize, shaped like Discord's: the
// app's name, who is signed in, each requested scope with its meaning (from the bundled
// providers/discord.json), where the browser goes next, and Authorize / Cancel. It is a plain HTML
// form (no JavaScript, no external resources) that posts back to /oauth2/authorize.
//
// The request was validated before the page is shown and is kept server-side under a random,
// single-use consent id, so the POST cannot change what is granted, and a page elsewhere cannot
// submit a consent it never saw (it cannot know the id; Origin, when sent, must be the emulator).
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../home.js';
import { escapeHtml, readBody, redirect, reply, mediaType, type Exchange } from './http.js';
import { randomToken, CODE_LIFETIME_MS, type PendingConsent } from './state.js';

/** Issues the code (and adds the bot) for an approved consent; returns the redirect to the app. */
type Approve = (state: Exchange['state'], consent: Omit<PendingConsent, 'expiresAt'>) => string;
type WithParams = (uri: string, params: Record<string, string | null>) => string;

/** Show the consent page for a validated authorize request. */
export function showConsent(ex: Exchange, request: Omit<PendingConsent, 'expiresAt'>): void {
  const { state } = ex;
  const map = state.consents;
  const now = state.now();
  for (const [id, consent] of map) if (consent.expiresAt <= now) map.delete(id);
  const id = randomToken(32);
  map.set(id, { ...request, expiresAt: now + CODE_LIFETIME_MS });
  const client = state.clients.get(request.code.clientId);
  const user = state.users.get(request.code.userId);
  const app = escapeHtml(client?.name ?? 'Unknown application');
  const meanings = scopeMeanings();
  const items = request.code.scopes
    .map(
      (s) =>
        `<li><span class="tick" aria-hidden="true">&#10003;</span><div><b>${escapeHtml(s)}</b><br><span class="muted">${escapeHtml(meanings[s] ?? 'No description.')}</span></div></li>`,
    )
    .join('\n');
  const target = new URL(request.redirectUri);
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Discord | Authorize access to your account</title>
<style>${STYLE}</style></head>
<body><main class="card">
<p class="emu">keygate's local Discord emulator, not discord.com</p>
<h1 id="app">${app}</h1>
<p class="muted center">wants to access your Discord account</p>
<p class="who">Signed in as <b id="user">${escapeHtml(user?.username ?? 'unknown')}</b></p>
<h2>This will allow the developer of ${app} to:</h2>
<ul id="scopes">
${items}
</ul>
${request.install ? `<p class="who">Adds the bot to <b id="guild">${escapeHtml(request.install.guild.name)}</b> with permissions ${escapeHtml(request.install.permissions)}</p>` : ''}
<p class="muted small">Once you authorize, you will be redirected outside of Discord to: <span id="redirect">${escapeHtml(target.origin + target.pathname)}</span></p>
<form method="post" action="/oauth2/authorize"><input type="hidden" name="consent" value="${id}">
<div class="buttons"><button class="cancel" name="decision" value="cancel">Cancel</button>
<button class="authorize" name="decision" value="authorize">Authorize</button></div></form>
</main></body></html>
`;
  reply(ex, 200, body, 'text/html; charset=utf-8', pageHeaders(target.origin));
}

/** POST /oauth2/authorize: the user's decision on a consent page. */
export async function decideConsent(ex: Exchange, approve: Approve, withParams: WithParams): Promise<void> {
  const origin = ex.req.headers.origin;
  if (origin !== undefined && !isEmulatorOrigin(origin, ex)) {
    return errorPage(ex, 403, 'Forbidden', 'This consent form only accepts submissions from its own page.');
  }
  const raw = await readBody(ex.req, 4096);
  const form =
    raw && mediaType(ex.req) === 'application/x-www-form-urlencoded' ? new URLSearchParams(raw.toString('utf8')) : new URLSearchParams();
  const map = ex.state.consents;
  const id = form.get('consent') ?? '';
  const consent = map.get(id);
  map.delete(id);
  if (!consent || consent.expiresAt <= ex.state.now()) {
    return errorPage(ex, 400, 'This authorization request has expired', 'Go back to the app and start the login again.');
  }
  const decision = form.get('decision');
  if (decision === 'authorize') return redirect(ex, approve(ex.state, consent), 303);
  ex.state.counters.consentsDenied++;
  redirect(
    ex,
    withParams(consent.redirectUri, {
      error: 'access_denied',
      error_description: 'The resource owner or authorization server denied the request',
      state: consent.state,
    }),
    303,
  );
}

/** Discord's own error page for an authorize request it cannot send back to the app. */
export function errorPage(ex: Exchange, status: number, title: string, detail: string): void {
  const body =
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Discord</title><style>${STYLE}</style></head>\n` +
    `<body><main class="card"><p class="emu">keygate's local Discord emulator, not discord.com</p><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></main></body></html>\n`;
  reply(ex, status, body, 'text/html; charset=utf-8', pageHeaders());
}

/**
 * Nothing on these pages may load or run anything: no scripts, no external resources, no framing.
 * form-action must name the redirect URI's origin too: browsers apply it to the redirect that
 * follows a form submission.
 */
function pageHeaders(redirectOrigin?: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${redirectOrigin ? ` ${redirectOrigin}` : ''}; frame-ancestors 'none'; base-uri 'none'`,
    'cache-control': 'no-store',
    // same-origin, not no-referrer: under no-referrer the form's POST carries `Origin: null`.
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
  };
}

function isEmulatorOrigin(origin: string, ex: Exchange): boolean {
  const host = ex.req.headers.host;
  return origin === 'https://discord.com' || (host !== undefined && origin === `https://${host}`);
}

let meaningsCache: Record<string, string> | undefined;

/** Scope descriptions from the bundled providers/discord.json (not a user's override: this is Discord's page). */
function scopeMeanings(): Record<string, string> {
  if (!meaningsCache) {
    try {
      const file = JSON.parse(fs.readFileSync(path.join(packageRoot, 'providers', 'discord.json'), 'utf8')) as {
        oauth2?: { scopes?: Record<string, string> };
      };
      meaningsCache = file.oauth2?.scopes ?? {};
    } catch {
      meaningsCache = {};
    }
  }
  return meaningsCache;
}

const STYLE = [
  'body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#5865f2;font:16px "gg sans","Noto Sans",system-ui,sans-serif;color:#dbdee1}',
  '.card{background:#313338;border-radius:8px;padding:32px;width:min(440px,90vw);box-shadow:0 8px 24px rgba(0,0,0,.3)}',
  'h1{margin:.2em 0 0;color:#f2f3f5;font-size:24px;text-align:center}h2{font-size:12px;text-transform:uppercase;color:#b5bac1;margin:24px 0 8px}',
  '.muted{color:#b5bac1}.small{font-size:12px}.who{text-align:center;font-size:14px}.center{text-align:center}',
  '.emu{font-size:12px;text-align:center;color:#fee75c;margin:0 0 8px}',
  'ul{list-style:none;padding:0;margin:0}li{display:flex;gap:12px;padding:8px 0;border-bottom:1px solid #3f4147}',
  '.tick{color:#23a55a;font-weight:bold}',
  '.buttons{display:flex;justify-content:space-between;margin-top:24px}',
  'button{font:inherit;border:0;border-radius:4px;padding:10px 24px;cursor:pointer}',
  '.authorize{background:#5865f2;color:#fff}.cancel{background:transparent;color:#dbdee1}',
].join('\n');
