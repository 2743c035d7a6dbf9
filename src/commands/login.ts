// keygate login <provider> [--connection] [--scopes | --for-tools] [--port] [--no-browser] [--timeout] [--force]
//        login <provider> --bot [--connection] [--force]  (login-bot.ts)
import { openBrowser as open } from '../api/browser.js';
import { setting } from '../config/index.js';
import type { CommandIO } from './io.js';
import { withKeygate } from './keygate.js';
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
  const list = (value: string | undefined) => value?.split(/[,\s]+/).filter(Boolean);
  // Settings first: a bad KEYGATE_LOGIN_PORT is a usage error before any file is read.
  const port = setting('login.port', { flag: flags.port, env: io.env });
  const browser = setting('login.open_browser', { flag: flags.browser, env: io.env });
  const timeout = setting('login.timeout', { flag: flags.timeout, env: io.env });
  let stopSpinner: (() => void) | undefined;
  try {
    await withKeygate(io, async (keygate) => {
      const session = await keygate.login(providerName, {
        connection: flags.connection,
        scopes: list(flags.scopes),
        forTools: list(flags.forTools),
        port,
        timeoutSeconds: timeout,
        force: flags.force,
        interactive: io.stdinIsTTY,
        openBrowser: browser,
        onProgress: (line) => io.stdout(`${line}\n`),
      });
      if (io.isTTY) stopSpinner = startSpinner(`Waiting for ${session.displayName} (up to ${timeout} s)…`);
      const connection = await session.connection;
      stopSpinner?.();
      const who = connection.account_name ? ` as ${connection.account_name}` : '';
      io.stdout(`Connected ${connection.provider}/${connection.connection}${who} (${connection.scopes})\n`);
      if (connection.missing_scopes.length) {
        io.stderr(`keygate: ${session.displayName} granted fewer scopes than requested; missing: ${connection.missing_scopes.join(' ')}\n`);
      }
    });
  } finally {
    stopSpinner?.();
  }
}

/** Opens the URL in a browser; kept here for `keygate install`, which opens its consent URL the same way. */
export function openBrowser(url: string, io: CommandIO): Promise<void> {
  return open(url, io.env, io.stderr);
}
