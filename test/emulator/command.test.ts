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
  it('prints one line per fact, serves until stopped, then stops cleanly', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-cmd-'));
    const io = captureIO();
    const stop = new AbortController();
    const running = main({ dir, tokenLifetime: 90 }, io, stop.signal);
    const text = await until(() => (io.out.length > 0 ? io.out.join('') : undefined));
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^origin: https:\/\/127\.0\.0\.1:\d+ \(serving discord\.com\)$/),
      `ca: ${path.join(dir, 'ca.pem')}`,
      expect.stringMatching(/^KEYGATE_CONNECT_TO=discord\.com:443:127\.0\.0\.1:(\d+),gateway\.discord\.gg:443:127\.0\.0\.1:\1,gateway-us-east1-b\.discord\.gg:443:127\.0\.0\.1:\1$/),
      'client_id: 123456789012345678',
      'client_secret: emulator-demo-secret',
    ]);
    const connectTo = lines[2]!.split('=')[1]!;
    const dispatcher = createDispatcher({ env: { KEYGATE_CONNECT_TO: connectTo }, ca: [await fs.readFile(path.join(dir, 'ca.pem'), 'utf8')] });
    const minted = await request('https://discord.com/__emulator/tokens', { method: 'POST', dispatcher });
    expect(((await minted.body.json()) as { expires_in: number }).expires_in).toBe(90);
    await dispatcher.close();

    stop.abort();
    await running;
    expect(io.err.join('')).toContain('emulator stopped');
    const port = Number(connectTo.split(':').at(-1));
    const probe = createDispatcher({ env: { KEYGATE_CONNECT_TO: connectTo }, ca: [await fs.readFile(path.join(dir, 'ca.pem'), 'utf8')] });
    await expect(request('https://discord.com/api/v10/gateway', { dispatcher: probe })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await probe.close();
    expect(port).toBeGreaterThan(0);
    await fs.rm(dir, { recursive: true, force: true });
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
    const caLine = await until(() => io.out.join('').split('\n').find((l) => l.startsWith('ca: ')));
    const caPath = caLine.slice(4);
    expect(await fs.readFile(caPath, 'utf8')).toContain('BEGIN CERTIFICATE');
    stop.abort();
    await running;
    await expect(fs.access(path.dirname(caPath))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a fractional token lifetime as a usage error', async () => {
    await expect(main({ tokenLifetime: 1.5 }, captureIO())).rejects.toBeInstanceOf(UsageError);
  });
});
