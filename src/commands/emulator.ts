// `keygate emulator [--port <n>] [--dir <path>] [--token-lifetime <seconds>]`: run the local Discord
// emulator in the foreground until SIGINT or SIGTERM, printing what a client needs to reach it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, startEmulator } from '../emulator/index.js';
import type { CommandIO } from './io.js';

export interface EmulatorCommandOptions {
  port?: number;
  /** Where the CA is kept (and reused). Default: a temp dir, removed on exit. */
  dir?: string;
  tokenLifetime?: number;
}

/** Runs until SIGINT/SIGTERM (or until `signal` aborts, for tests), then stops cleanly. */
export async function main(options: EmulatorCommandOptions, io: CommandIO, signal?: AbortSignal): Promise<void> {
  const { tokenLifetime } = options;
  if (tokenLifetime !== undefined && (!Number.isInteger(tokenLifetime) || tokenLifetime < 1)) {
    throw new UsageError(`--token-lifetime must be a whole number of seconds, got \`${tokenLifetime}\``, {
      hint: 'e.g. --token-lifetime 60',
    });
  }
  const tempDir = options.dir === undefined ? await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-')) : undefined;
  try {
    const emulator = await startEmulator({
      dir: options.dir ?? tempDir!,
      port: options.port,
      tokenLifetimeSeconds: tokenLifetime,
    });
    io.stdout(
      [
        `origin: ${emulator.origin} (serving discord.com)`,
        `ca: ${emulator.caPath}`,
        `KEYGATE_CONNECT_TO=${emulator.connectToAll}`,
        `client_id: ${DEMO_CLIENT_ID}`,
        // The demo app's secret is fixed and published; printing it reveals nothing.
        `client_secret: ${DEMO_CLIENT_SECRET}`,
        '',
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
