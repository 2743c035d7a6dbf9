// The loopback callback server for the authorization-code flow. It listens on 127.0.0.1 only, serves
// exactly one path, checks the Host header (so a web page cannot drive it through DNS rebinding)
// and the state (so a forged callback is shown an error page and the real one can still arrive).
import http from 'node:http';
import { KeygateError, UsageError } from '../errors.js';
import { CALLBACK_PATH } from './authorize.js';
import { sameSecret } from './pkce.js';

/** `params`: the whole callback query (a bot install adds `guild_id` and `permissions`). */
export type CallbackResult = { code: string; params: URLSearchParams } | { error: string; description?: string };

export interface CallbackServer {
  port: number;
  /** Settles with the first callback carrying the right state (a code or an error). */
  result: Promise<CallbackResult>;
  /** Called after the code exchange, to tell the waiting browser how it went. */
  finish(outcome: { ok: true; message: string } | { ok: false; message: string }): void;
  close(): Promise<void>;
}

export const SETUP_PATH = '/auth/setup';

export interface ClientForm {
  /** Origin of the authorize URL the form sends the browser on to (allowed by its CSP form-action). */
  authorizeOrigin: string;
  /** Gets what the user typed; returns the authorize URL to send the browser to. */
  onSubmit(clientId: string, clientSecret: string): string;
}

export async function startCallbackServer(options: {
  port: number;
  state: string;
  providerName: string;
  clientForm?: ClientForm;
}): Promise<CallbackServer> {
  let settle!: (result: CallbackResult) => void;
  const result = new Promise<CallbackResult>((resolve) => (settle = resolve));
  let settled = false;
  let pending: http.ServerResponse | undefined;
  const allowedHosts = new Set([`127.0.0.1:${options.port}`, `localhost:${options.port}`]);

  const server = http.createServer((req, res) => {
    res.setHeader('cache-control', 'no-store');
    // Not no-referrer: under it browsers send `Origin: null` with the setup form's POST, and the
    // origin check below refuses it. same-origin still sends nothing to any other site.
    res.setHeader('referrer-policy', 'same-origin');
    res.setHeader('x-frame-options', 'DENY');
    if (!allowedHosts.has(req.headers.host ?? '')) {
      return page(res, 421, 'Wrong host', 'This callback server only answers requests for 127.0.0.1 or localhost.');
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${options.port}`);
    if (options.clientForm && url.pathname === SETUP_PATH) {
      return void clientSetup(req, res, url, options, options.clientForm);
    }
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      return page(res, 404, 'Not found', 'keygate is waiting for an OAuth callback; nothing else is served here.');
    }
    const state = url.searchParams.get('state') ?? '';
    if (settled || !sameSecret(state, options.state)) {
      return page(
        res,
        400,
        'Login not recognised',
        'This callback does not belong to the login keygate is waiting for (missing or wrong state). If you started a login, use the link keygate printed.',
      );
    }
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error) {
      settled = true;
      page(res, 400, 'Login cancelled', `${options.providerName} answered: ${escapeHtml(error)}. You can close this tab.`);
      settle({ error, description: url.searchParams.get('error_description') ?? undefined });
      return;
    }
    if (!code) {
      return page(res, 400, 'Login not recognised', 'The callback carried neither a code nor an error.');
    }
    settled = true;
    // Hold the browser's request until the exchange is done, so its page tells the truth.
    pending = res;
    settle({ code, params: url.searchParams });
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new UsageError(`port ${options.port} on 127.0.0.1 is already in use`, {
            hint: `stop what is using it, or pass --port <n> (and register http://127.0.0.1:<n>${CALLBACK_PATH} with the provider)`,
            cause: err,
          }),
        );
      } else {
        reject(
          new KeygateError(`cannot start the callback server on 127.0.0.1:${options.port}: ${err.code ?? err.message}`, {
            hint: 'try another --port',
            cause: err,
          }),
        );
      }
    });
    server.listen(options.port, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.address() as { port: number }).port,
    result,
    finish(outcome) {
      if (!pending) return;
      page(pending, outcome.ok ? 200 : 500, outcome.ok ? 'Connected' : 'Login failed', escapeHtml(outcome.message));
      pending = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (pending) page(pending, 500, 'Login ended', 'keygate stopped waiting.');
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The client-credentials form: shown instead of a terminal prompt when keygate has no TTY but opens a
 * browser. The state travels in the form as a CSRF token; Origin, when sent, must be this server.
 */
async function clientSetup(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  options: { port: number; state: string; providerName: string },
  form: ClientForm,
): Promise<void> {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://127.0.0.1:${options.port}` && origin !== `http://localhost:${options.port}`) {
    return page(res, 403, 'Refused', 'This form only accepts submissions from itself.');
  }
  if (req.method === 'GET') {
    if (!sameSecret(url.searchParams.get('state') ?? '', options.state))
      return page(res, 400, 'Login not recognised', 'Use the link keygate printed.');
    const name = escapeHtml(options.providerName);
    return page(
      res,
      200,
      `${name} app credentials`,
      `keygate needs your ${name} app's OAuth2 client ID and secret (from the developer portal). They are stored encrypted on this machine.</p>
<form method="post" action="${SETUP_PATH}"><input type="hidden" name="state" value="${escapeHtml(options.state)}">
<p><label>Client ID<br><input name="client_id" required autocomplete="off" size="40"></label></p>
<p><label>Client secret<br><input name="client_secret" type="password" autocomplete="off" size="40"></label></p>
<p><button type="submit">Continue to ${name}</button></p></form><p>`,
      // Browsers apply form-action to the redirect after the POST too: allow the provider's origin.
      `'self' ${form.authorizeOrigin}`,
    );
  }
  if (req.method !== 'POST') return page(res, 405, 'Method not allowed', 'Use the form.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 8192) return page(res, 413, 'Too large', 'The form data is too large.');
    chunks.push(chunk);
  }
  const fields = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const clientId = (fields.get('client_id') ?? '').trim();
  if (!sameSecret(fields.get('state') ?? '', options.state)) return page(res, 400, 'Login not recognised', 'Use the link keygate printed.');
  if (!/^[\x21-\x7e]{1,200}$/.test(clientId)) return page(res, 400, 'Client ID needed', 'Go back and enter the client ID.');
  const location = form.onSubmit(clientId, (fields.get('client_secret') ?? '').trim());
  res.writeHead(303, { location, 'content-length': 0 });
  res.end();
}

/**
 * Every page is static HTML: no script, no external resource, nothing may frame it, and only the
 * setup form may submit anywhere (`formAction`). It works, and is safe, with JavaScript off.
 */
function page(res: http.ServerResponse, status: number, title: string, message: string, formAction = "'none'"): void {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>keygate: ${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}h1{font-size:1.4em}</style></head>
<body><h1>${title}</h1><p>${message}</p></body></html>\n`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
