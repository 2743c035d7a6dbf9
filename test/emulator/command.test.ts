import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/commands/emulator.js';
import type { CommandIO } from '../../src/commands/io.js';
import { UsageError } from '../../src/errors.js';
import { createDispatcher } from '../../src/net.js';

function captureIO(): CommandIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, isTTY: false, stdinIsTTY: false };
}

async function until<T>(probe: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('keygate emulator', () => {
  it('prints the exact lines to paste, serves until stopped, then stops cleanly', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-cmd-'));
    const io = captureIO();
    const stop = new AbortController();
    const running = main({ dir, tokenLifetime: 90, redirectUri: ['http://127.0.0.1:8000/auth/callback/oauth'] }, io, stop.signal);
    const text = await until(() => (io.out.length > 0 ? io.out.join('') : undefined));
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^Discord emulator on https:\/\/127\.0\.0\.1:\d+, answering for discord\.com$/),
      expect.stringMatching(/^Consent: keygate login prints and opens the emulator's consent page/),
      `CA and state in ${dir} (kept across restarts)`,
      'Redirect URIs of the demo app: http://127.0.0.1:7998/auth/callback/oauth http://127.0.0.1:8000/auth/callback/oauth',
      '',
      'Paste these lines into the shell where you run keygate:',
      '',
      expect.stringMatching(
        /^export KEYGATE_CONNECT_TO=discord\.com:443:127\.0\.0\.1:(\d+),gateway\.discord\.gg:443:127\.0\.0\.1:\1,gateway-us-east1-b\.discord\.gg:443:127\.0\.0\.1:\1$/,
      ),
      `export NODE_EXTRA_CA_CERTS=${path.join(dir, 'ca.pem')}`,
      'export DISCORD_CLIENT_ID=123456789012345678',
      'export DISCORD_CLIENT_SECRET=emulator-demo-secret',
      '',
      `or run: eval "$(keygate emulator --dir ${dir} --env)"`,
    ]);
    const connectTo = lines[7].split('=')[1];
    const dispatcher = createDispatcher({
      env: { KEYGATE_CONNECT_TO: connectTo },
      ca: [await fs.readFile(path.join(dir, 'ca.pem'), 'utf8')],
    });
    const minted = await request('https://discord.com/__emulator/tokens', { method: 'POST', dispatcher });
    expect(((await minted.body.json()) as { expires_in: number }).expires_in).toBe(90);
    await dispatcher.close();

    // --env prints the same export lines, from the state the running emulator recorded.
    const env = captureIO();
    await main({ dir, env: true }, env);
    expect(env.out.join('')).toBe(`${lines.slice(7, 11).join('\n')}\n`);

    stop.abort();
    await running;
    expect(io.err.join('')).toContain('emulator stopped');
    const port = Number(connectTo.split(':').at(-1));
    const probe = createDispatcher({ env: { KEYGATE_CONNECT_TO: connectTo }, ca: [await fs.readFile(path.join(dir, 'ca.pem'), 'utf8')] });
    await expect(request('https://discord.com/api/v10/gateway', { dispatcher: probe })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await probe.close();

    // A restart on the same --dir comes back on the same port, with the extra redirect URI.
    const again = captureIO();
    const stopAgain = new AbortController();
    const rerun = main({ dir }, again, stopAgain.signal);
    const text2 = await until(() => (again.out.length > 0 ? again.out.join('') : undefined));
    expect(text2).toContain(
      `export KEYGATE_CONNECT_TO=discord.com:443:127.0.0.1:${port},gateway.discord.gg:443:127.0.0.1:${port},gateway-us-east1-b.discord.gg:443:127.0.0.1:${port}\n`,
    );
    expect(text2).toContain('http://127.0.0.1:8000/auth/callback/oauth');
    stopAgain.abort();
    await rerun;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--env: eval-able lines, quoting the CA path; a usage error without --dir or before any run', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "keygate emulator's dir-"));
    const io = captureIO();
    await main({ dir, env: true, port: 8443 }, io);
    const script = `${io.out.join('')}printf '%s|%s|%s|%s' "$KEYGATE_CONNECT_TO" "$NODE_EXTRA_CA_CERTS" "$DISCORD_CLIENT_ID" "$DISCORD_CLIENT_SECRET"`;
    const shown = execFileSync('bash', ['--noprofile', '--norc', '-c', `eval "$(cat)"`], { input: script, encoding: 'utf8', env: {} });
    expect(shown).toBe(
      `discord.com:443:127.0.0.1:8443,gateway.discord.gg:443:127.0.0.1:8443,gateway-us-east1-b.discord.gg:443:127.0.0.1:8443|${path.join(dir, 'ca.pem')}|123456789012345678|emulator-demo-secret`,
    );
    await expect(main({ dir, env: true }, captureIO())).rejects.toThrow(/no emulator has run in .* yet/);
    await expect(main({ env: true }, captureIO())).rejects.toBeInstanceOf(UsageError);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses a redirect URI that is not an http(s) URL', async () => {
    await expect(main({ redirectUri: ['127.0.0.1:8000/cb'] }, captureIO())).rejects.toThrow(
      /--redirect-uri `127.0.0.1:8000\/cb` is not an http\(s\) URL/,
    );
  });

  it('stops on SIGTERM, and removes its signal handlers', async () => {
    const sigtermListeners = process.listenerCount('SIGTERM');
    const io = captureIO();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-cmd-'));
    const running = main({ dir }, io);
    await until(() => (io.out.length > 0 ? true : undefined));
    process.emit('SIGTERM');
    await running;
    expect(io.err.join('')).toContain('emulator stopped');
    expect(process.listenerCount('SIGTERM')).toBe(sigtermListeners);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('uses and then removes a temp dir when --dir is not given', async () => {
    const io = captureIO();
    const stop = new AbortController();
    const running = main({}, io, stop.signal);
    const caLine = await until(() =>
      io.out
        .join('')
        .split('\n')
        .find((l) => l.startsWith('export NODE_EXTRA_CA_CERTS=')),
    );
    const caPath = caLine.split('=')[1];
    expect(await fs.readFile(caPath, 'utf8')).toContain('BEGIN CERTIFICATE');
    stop.abort();
    await running;
    await expect(fs.access(path.dirname(caPath))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a fractional token lifetime as a usage error', async () => {
    await expect(main({ tokenLifetime: 1.5 }, captureIO())).rejects.toBeInstanceOf(UsageError);
  });
});
