// The request log: redaction, 0600 file, batching, rotation, reading back.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOG_FILE, RequestLog, type RequestLogEntry, formatLogEntry, readRequestLog, redactPath } from '../../src/proxy/log.js';
import { removeTempDirs, tempDir } from '../fixtures/proxy-harness.js';

const entry = (i: number, time = new Date().toISOString()): RequestLogEntry => ({
  time,
  method: 'GET',
  host: 'discord.com',
  path: `/api/v10/users/@me?i=…`,
  status: 200,
  provider: 'discord',
  connection: 'default',
  duration_ms: i,
  action: 'injected',
});

afterAll(removeTempDirs);

describe('request log', () => {
  it('redacts query values and token-like path segments, keeps ids', () => {
    expect(redactPath('/api/v10/users/@me')).toBe('/api/v10/users/@me');
    expect(redactPath('/a?token=secret&limit=5&flag')).toBe('/a?token=…&limit=…&flag');
    expect(redactPath('/api/webhooks/123456789012345678901/Zk3ab_cdEFghIJklMNopQRstUVwx-yz0123456789')).toBe(
      '/api/webhooks/123456789012345678901/…',
    );
  });

  it('appends JSON lines to a 0600 file and reads the last n back', async () => {
    const home = tempDir();
    const log = new RequestLog(home);
    for (let i = 0; i < 5; i++) log.append(entry(i));
    await log.close();
    const file = path.join(home, LOG_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(5);
    expect((await readRequestLog(home, 2)).map((e) => e.duration_ms)).toEqual([3, 4]);
    expect(formatLogEntry(entry(7, '2025-01-01T00:00:00.000Z'))).toBe(
      '2025-01-01T00:00:00.000Z GET discord.com/api/v10/users/@me?i=… → 200 discord/default 7 ms',
    );
  });

  it('rotates at 5 MB, keeping one old file', async () => {
    const home = tempDir();
    const file = path.join(home, LOG_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(entry(1))}\n`.repeat((5 * 1024 * 1024) / 200));
    const log = new RequestLog(home);
    for (let i = 0; i < 200; i++) log.append(entry(2));
    await log.close();
    expect(fs.existsSync(`${file}.1`)).toBe(true);
    expect(fs.statSync(file).size).toBeLessThan(100_000);
    const last = await readRequestLog(home, 1_000_000);
    expect(last.at(-1)!.duration_ms).toBe(2);
  });
});

describe('log retention (setting log.retention_days)', () => {
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
  const write = (file: string, entries: RequestLogEntry[], mtimeDaysAgo?: number) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    if (mtimeDaysAgo !== undefined) {
      const t = new Date(Date.now() - mtimeDaysAgo * 86_400_000);
      fs.utimesSync(file, t, t);
    }
  };

  it('keygate log shows only entries within retention; the setting in the config file decides', async () => {
    const home = tempDir();
    write(path.join(home, LOG_FILE), [entry(1, daysAgo(40)), entry(2, daysAgo(10)), entry(3, daysAgo(1))]);
    expect((await readRequestLog(home, 100)).map((e) => e.duration_ms)).toEqual([2, 3]); // default 30 days
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ log: { retention_days: 5 } }));
    expect((await readRequestLog(home, 100)).map((e) => e.duration_ms)).toEqual([3]);
  });

  it('a run deletes a rotated file past retention and rotates a current file whose oldest entry is past half of it', async () => {
    const home = tempDir();
    const file = path.join(home, LOG_FILE);
    write(`${file}.1`, [entry(1, daysAgo(50)), entry(2, daysAgo(40))], 40);
    write(file, [entry(3, daysAgo(20)), entry(4, daysAgo(2))]);
    const log = new RequestLog(home, { retentionDays: 30 });
    log.append(entry(5));
    await log.close();
    // The old rotated file is gone; the current one (oldest 20 days > 15) became the rotated one.
    expect(fs.readFileSync(`${file}.1`, 'utf8')).not.toContain('"duration_ms":1,');
    expect((await readRequestLog(home, 100, 30)).map((e) => e.duration_ms)).toEqual([3, 4, 5]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('0 keeps no log: nothing is written and earlier files are deleted', async () => {
    const home = tempDir();
    const file = path.join(home, LOG_FILE);
    write(file, [entry(1)]);
    write(`${file}.1`, [entry(0)]);
    const log = new RequestLog(home, { retentionDays: 0 });
    log.append(entry(2));
    await log.close();
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(`${file}.1`)).toBe(false);
  });
});
