// `keygate emulator [--port <n>] [--dir <path>] [--redirect-uri <uri>]... [--token-lifetime <s>] [--env]`:
// run the local Discord emulator in the foreground until SIGINT or SIGTERM, printing the exact lines
// a shell needs to point keygate at it. With --env, print only those lines (for `eval`) and exit.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KeygateError, UsageError } from '../errors.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, emulatorConnectTo, readSavedState, startEmulator } from '../emulator/index.js';
import { loadOrCreateCa } from '../emulator/ca.js';
import type { CommandIO } from './io.js';

export interface EmulatorCommandOptions {
  /** Default: the port recorded in --dir by the last run, else a random one. */
  port?: number;
  /** Where the CA and state.json are kept (and reused). Default: a temp dir, removed on exit. */
  dir?: string;
  /** Extra redirect URIs for the demo application (repeatable); kept in state.json. */
  redirectUri?: string[];
  tokenLifetime?: number;
  /** Print the `export` lines for the emulator in --dir and exit. */
  env?: boolean;
  /** Approve every authorize request at once instead of showing the consent page (scripts). */
  autoApprove?: boolean;
}

/** Runs until SIGINT/SIGTERM (or until `signal` aborts, for tests), then stops cleanly. */
export async function main(options: EmulatorCommandOptions, io: CommandIO, signal?: AbortSignal): Promise<void> {
  const { tokenLifetime } = options;
  if (tokenLifetime !== undefined && (!Number.isInteger(tokenLifetime) || tokenLifetime < 1)) {
    throw new UsageError(`--token-lifetime must be a whole number of seconds, got \`${tokenLifetime}\``, {
      hint: 'e.g. --token-lifetime 60',
    });
  }
  const redirectUris = (options.redirectUri ?? []).map(checkRedirectUri);
  if (options.env) return printEnv(options, io);

  const tempDir = options.dir === undefined ? await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-')) : undefined;
  const dir = path.resolve(options.dir ?? tempDir!);
  try {
    const emulator = await startEmulator({
      dir,
      port: options.port ?? savedState(dir)?.port,
      tokenLifetimeSeconds: tokenLifetime,
      persist: true,
      redirectUris,
      consent: options.autoApprove ? 'auto' : 'page',
    });
    const registered = readSavedState(dir)?.clients.find((c) => c.client_id === DEMO_CLIENT_ID)?.redirect_uris ?? [];
    const again = options.dir === undefined ? 'the next run starts empty (pass --dir to keep it)' : 'kept across restarts';
    io.stdout(
      [
        `Discord emulator on ${emulator.origin}, answering for discord.com`,
        options.autoApprove
          ? 'Authorize requests are approved at once as alice (--auto-approve)'
          : "Consent: keygate login prints and opens the emulator's consent page (your browser will warn about its certificate; see ca.pem below)",
        `CA and state in ${dir} (${again})`,
        `Redirect URIs of the demo app: ${registered.join(' ')}`,
        '',
        'Paste these lines into the shell where you run keygate:',
        '',
        ...exportLines(emulator.connectToAll, emulator.caPath),
        '',
        ...(options.dir === undefined ? [] : [`or run: eval "$(keygate emulator --dir ${shellQuote(dir)} --env)"`, '']),
      ].join('\n'),
    );
    io.stderr('emulator running; stop it with Ctrl+C\n');
    await untilStopped(signal);
    await emulator.stop();
    io.stderr('emulator stopped\n');
  } finally {
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
  }
}

/** The variables keygate needs to use the emulator: discord.com routed to it, its CA trusted, the demo app. */
function exportLines(connectTo: string, caPath: string): string[] {
  return [
    `export KEYGATE_CONNECT_TO=${connectTo}`,
    `export NODE_EXTRA_CA_CERTS=${shellQuote(caPath)}`,
    `export DISCORD_CLIENT_ID=${DEMO_CLIENT_ID}`,
    // The emulator's demo app has a fixed, published test secret: printing it reveals nothing, and
    // it is accepted by nothing but the emulator.
    `export DISCORD_CLIENT_SECRET=${DEMO_CLIENT_SECRET}`,
  ];
}

async function printEnv(options: EmulatorCommandOptions, io: CommandIO): Promise<void> {
  if (options.dir === undefined) {
    throw new UsageError("--env needs the running emulator's --dir", {
      hint: 'e.g. eval "$(keygate emulator --dir ~/keygate-emulator --env)"',
    });
  }
  const dir = path.resolve(options.dir);
  const port = options.port ?? savedState(dir)?.port;
  if (port === undefined) {
    throw new UsageError(`no emulator has run in ${dir} yet`, {
      hint: `start \`keygate emulator --dir ${shellQuote(dir)}\` first, or pass --port`,
    });
  }
  const ca = await loadOrCreateCa(dir);
  io.stdout(`${exportLines(emulatorConnectTo(port), ca.caPath).join('\n')}\n`);
}

function savedState(dir: string): ReturnType<typeof readSavedState> {
  try {
    return readSavedState(dir);
  } catch (err) {
    throw new KeygateError(`cannot read the emulator state: ${(err as Error).message}`, {
      hint: `delete ${path.join(dir, 'state.json')} to start the emulator afresh`,
      cause: err,
    });
  }
}

function checkRedirectUri(uri: string): string {
  let url: URL | undefined;
  try {
    url = new URL(uri);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--redirect-uri \`${uri}\` is not an http(s) URL`, {
      hint: 'e.g. --redirect-uri http://127.0.0.1:8000/auth/callback/oauth',
    });
  }
  return uri;
}

/** A word the shell reads back unchanged: bare when safe, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done);
  });
}
