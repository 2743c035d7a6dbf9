// Login for apps that show the link themselves: the authorization URL comes back as soon as the
// callback server listens, and the stored connection is a promise the app awaits.
import { KeygateError, UsageError } from '../errors.js';
import { setting } from '../config/index.js';
import { describeMeta } from '../connection/describe.js';
import { login as oauthLogin } from '../oauth/login.js';
import type { ConnectionRecord } from '../vault/types.js';
import { openBrowser } from './browser.js';
import type { Context } from './context.js';
import type { LoggedIn, LoginOptions, LoginSession } from './types.js';

export async function startLogin(ctx: Context, providerName: string, options: LoginOptions = {}): Promise<LoginSession> {
  if (options.scopes !== undefined && options.forTools !== undefined) {
    throw new UsageError('--for-tools and --scopes cannot be combined', {
      hint: 'use --for-tools to plan the scopes from tools, or --scopes to name them',
    });
  }
  // Settings first (`keygate config`, KEYGATE_LOGIN_PORT, ...): a bad one is a usage error before any file is read.
  const port = options.port ?? setting('login.port', { env: ctx.env, home: ctx.home });
  const timeoutSeconds = options.timeoutSeconds ?? setting('login.timeout', { env: ctx.env, home: ctx.home });
  const provider = await ctx.provider(providerName);
  let scopes = options.scopes;
  if (options.forTools !== undefined) {
    const { planScopes } = await import('../tools/index.js');
    const plan = planScopes(provider, options.forTools);
    scopes = plan.login_scopes;
    options.onProgress?.(`Scopes for ${plan.tools.join(', ')}: ${scopes.join(' ') || '(none)'}`);
  }
  let shown: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => (shown = resolve));
  const done = oauthLogin(provider, await ctx.store(), {
    connection: options.connection ?? 'default',
    scopes,
    port,
    timeoutSeconds,
    force: options.force,
    env: ctx.env,
    interactive: options.interactive ?? false,
    // Without a terminal, missing client credentials are asked for on a local form, which only
    // helps when a browser will show it.
    browserForm: Boolean(options.openBrowser) && hasDisplay(ctx.env),
    say: (line) => options.onProgress?.(line),
    onAuthorizeUrl: async (link) => {
      shown(link);
      if (options.openBrowser) await openBrowser(link, ctx.env, ctx.stderr);
    },
  });
  // A failure before the URL exists (already connected, no client credentials) rejects the call itself.
  const first = await Promise.race([
    url,
    done.then(() => {
      throw new KeygateError('the login finished without an authorization URL');
    }),
  ]);
  return {
    displayName: provider.display_name,
    url: first,
    connection: done.then(({ record, missing }) => ({ ...describe(record), missing_scopes: missing })),
  };
}

function describe(record: ConnectionRecord): Omit<LoggedIn, 'missing_scopes'> {
  const { access_token: _a, refresh_token, ...tokens } = record.tokens;
  return describeMeta({ ...record, tokens: { ...tokens, has_refresh_token: Boolean(refresh_token) } });
}

/** Whether a browser can plausibly open: a BROWSER command, or on Linux a graphical session. */
export function hasDisplay(env: NodeJS.ProcessEnv): boolean {
  return process.platform !== 'linux' || Boolean(env.BROWSER || env.DISPLAY || env.WAYLAND_DISPLAY);
}
