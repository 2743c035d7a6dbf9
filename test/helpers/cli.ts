// Run the built CLI (bin/keygate.js → dist/) as a real child process, as users do.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const bin = path.join(repoRoot, 'bin', 'keygate.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, with `binary: true` (an image). */
  bytes?: Buffer;
}

export function tempHome(prefix = 'keygate-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A clean environment for keygate: own home, key file backend (never a real keychain), no colour. */
export function cliEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    KEYGATE_HOME: home,
    KEYGATE_KEY_BACKEND: 'keyfile',
    NO_COLOR: '1',
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

export function runCli(
  args: string[],
  options: {
    env: NodeJS.ProcessEnv;
    input?: string;
    timeoutMs?: number;
    onStdout?: (chunk: string) => void;
    onStderr?: (chunk: string) => void;
    binary?: boolean;
  },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const chunks: Buffer[] = [];
    if (options.binary) {
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    } else {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        options.onStdout?.(chunk);
      });
    }
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(options.binary ? { code, stdout, stderr, bytes: Buffer.concat(chunks) } : { code, stdout, stderr });
    });
    // A command that exits without reading its input (a usage error) closes the pipe first: EPIPE
    // here is not the test's concern (it surfaced as an unhandled error on Node 24).
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
