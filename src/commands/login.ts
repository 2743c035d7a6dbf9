// keygate login <provider> [--connection] [--scopes | --for-tools] [--port] [--no-browser] [--timeout] [--force]
//        login <provider> --bot [--connection] [--force]  (login-bot.ts)
import { setting } from '../config/index.js';
import { UsageError } from '../errors.js';
import { getProvider } from '../provider/index.js';
import { openStore } from '../store/index.js';
import { login } from '../oauth/login.js';
import type { CommandIO } from './io.js';
import { startSpinner } from './spinner.js';

export interface LoginCommandOptions {
  /** Default: `default`, or the provider's bot connection (`bot`) with --bot. */
  connection?: string;
  bot?: boolean;
  scopes?: string;
  forTools?: string;
  /** Undefined when the flag was not given: then the setting decides (see src/config/). */
  port?: number;
  browser?: boolean;
  timeout?: number;
  force?: boolean;
}

export async function main(providerName: string, flags: LoginCommandOptions, io: CommandIO): Promise<void> {
  if (flags.bot) return (await import('./login-bot.js')).main(providerName, flags, io);
  if (flags.scopes !== undefined && flags.forTools !== undefined) {
    throw new UsageError('--for-tools and --scopes cannot be combined', { hint: 'use --for-tools to plan the scopes from tools, or --scopes to name them' });
  }
  // Settings first: a bad KEYGATE_LOGIN_PORT is a usage error before any file is read.
  const options = {
    ...flags,
    port: setting('login.port', { flag: flags.port, env: io.env }),
    browser: setting('login.open_browser', { flag: flags.browser, env: io.env }),
    timeout: setting('login.timeout', { flag: flags.timeout, env: io.env }),
  };
  const provider = await getProvider(providerName);
  let scopes = options.scopes?.split(/[,\s]+/).filter(Boolean);
  if (options.forTools !== undefined) {
    const { planScopes } = await import('../tools/index.js');
    const plan = planScopes(provider, options.forTools.split(/[,\s]+/).filter(Boolean));
    scopes = plan.login_scopes;
    io.stdout(`Scopes for ${plan.tools.join(', ')}: ${scopes.join(' ') || '(none)'}\n`);
  }
  const vault = await openStore();
  let stopSpinner: (() => void) | undefined;
  try {
    const result = await login(provider, vault, {
      connection: options.connection ?? 'default',
      scopes,
      port: options.port,
      timeoutSeconds: options.timeout,
      force: options.force,
      env: io.env,
      interactive: io.stdinIsTTY,
      browserForm: options.browser && hasDisplay(io.env),
      say: (line) => io.stdout(`${line}\n`),
      onAuthorizeUrl: async (url) => {
        if (options.browser) await openBrowser(url, io);
        if (io.isTTY) stopSpinner = startSpinner(`Waiting for ${provider.display_name} (up to ${options.timeout} s)…`);
      },
    });
    stopSpinner?.();
    const { record, missing } = result;
    const who = record.account ? ` as ${record.account.name}` : '';
    io.stdout(`Connected ${record.provider}/${record.connection}${who} (${record.tokens.scopes.join(' ')})\n`);
    if (missing.length) {
      io.stderr(`keygate: ${provider.display_name} granted fewer scopes than requested; missing: ${missing.join(' ')}\n`);
    }
  } finally {
    stopSpinner?.();
  }
}

/** Whether a browser can plausibly open: a BROWSER command, or on Linux a graphical session. */
function hasDisplay(env: NodeJS.ProcessEnv): boolean {
  return process.platform !== 'linux' || Boolean(env.BROWSER || env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * Opens the URL with `open` (xdg-open, open, start), or with the command in BROWSER when set (the
 * convention of xdg-utils and Python's webbrowser; tests point it at a browser they control). Any
 * failure (no display, no such command, a non-zero exit) is announced and the login keeps waiting:
 * the URL is already on the terminal.
 */
export async function openBrowser(url: string, io: CommandIO): Promise<void> {
  const browser = io.env.BROWSER?.trim();
  const failed = (why: string) => io.stderr(`keygate: could not open a browser (${why}); open the URL above yourself\n`);
  try {
    const { default: open } = await import('open');
    const opening = open(url, { wait: false, ...(browser ? { app: { name: browser } } : {}) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), 3000)));
    const child = await Promise.race([opening, timeout]).finally(() => clearTimeout(timer));
    child.once('error', (err) => failed(err.message));
    // xdg-open without a display, or a browser command that fails, says so only by its exit code.
    child.once('exit', (code) => {
      if (code) failed(`${browser ?? 'the opener'} exited with ${code}`);
    });
    child.unref();
  } catch (err) {
    failed(err instanceof Error ? err.message : String(err));
  }
}
