// The request log: one JSON line per request the proxy handled for a provider host, appended to
// KEYGATE_HOME/logs/requests.jsonl (0600, capped, one rotated file kept, entries older than the
// log.retention_days setting dropped). Entries hold names and shapes only: never a credential, a
// placeholder, a query value or a token-like path segment.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setting } from '../config/index.js';

export interface RequestLogEntry {
  /** ISO 8601 UTC time the request arrived. */
  time: string;
  method: string;
  host: string;
  /** Path with query values and token-like segments redacted (see redactPath). */
  path: string;
  /** Status sent to the client (502 when upstream failed, 4xx when keygate refused). */
  status: number;
  provider: string;
  /** The connection whose credential was sent; null when none was (refused, or the request brought its own). */
  connection: string | null;
  duration_ms: number;
  /** What keygate did: injected, passed (request's own credential), refused, replayed (after a 401). */
  /** `relayed`: a WebSocket keygate relays (a bot gateway: the placeholder replaced in IDENTIFY/RESUME). */
  action: 'injected' | 'passed' | 'refused' | 'replayed' | 'relayed';
  /** Why keygate refused or what failed upstream; never holds a secret. */
  error?: string;
}

export const LOG_FILE = path.join('logs', 'requests.jsonl');
const MAX_BYTES = 5 * 1024 * 1024;
const FLUSH_MS = 200;
const FLUSH_ENTRIES = 500;
const REDACTED = '…';
const DAY_MS = 86_400_000;

function retentionDays(home: string): number {
  return setting('log.retention_days', { home });
}

/**
 * Query values go (`?token=…`), and so does any path segment that looks like a secret, because some
 * APIs put tokens in paths (Discord webhooks: /webhooks/{id}/{token}). Long runs of digits (Discord
 * snowflakes) stay: they are ids, and the log is useless without them.
 */
export function redactPath(target: string): string {
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  let out = pathname.length < 24 ? pathname : pathname.split('/').map(redactSegment).join('/');
  if (q !== -1) {
    const query = target
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        return eq === -1 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
      });
    out += `?${query.join('&')}`;
  }
  return out.length > 300 ? `${out.slice(0, 300)}${REDACTED}` : out;
}

function redactSegment(segment: string): string {
  return segment.length >= 24 && !/^\d+$/.test(segment) ? REDACTED : segment;
}

/** One line for humans: `12:00:01.234 GET discord.com/api/v10/users/@me → 200 discord/default 12 ms`. */
export function formatLogEntry(entry: RequestLogEntry): string {
  const who = entry.connection ? `${entry.provider}/${entry.connection}` : `${entry.provider} (${entry.action})`;
  const replay = entry.action === 'replayed' ? ' (replayed after 401)' : '';
  const why = entry.error ? ` — ${entry.error}` : '';
  return `${entry.time} ${entry.method} ${entry.host}${entry.path} → ${entry.status} ${who} ${entry.duration_ms} ms${replay}${why}`;
}

/**
 * Appends entries to the log file. Entries are batched and written every FLUSH_MS (or when the batch
 * grows), so a request costs no file I/O and no serialisation: a write per request would cost a
 * thread-pool round trip each.
 */
export class RequestLog {
  private fd: number | undefined;
  private bytes = 0;
  private batch: RequestLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;
  private readonly retentionMs: number;

  /** `retentionDays` defaults to the log.retention_days setting; 0 writes nothing. */
  constructor(home: string, options: { retentionDays?: number } = {}) {
    this.file = path.join(home, LOG_FILE);
    this.retentionMs = (options.retentionDays ?? retentionDays(home)) * DAY_MS;
    // Keeping no log means none is left from before either.
    if (this.retentionMs === 0) pruneLog(this.file, 0);
  }

  /** Keeps `entry` (not to be changed afterwards) for the next flush: no work on the request's path. */
  append(entry: RequestLogEntry): void {
    if (this.retentionMs === 0) return;
    this.batch.push(entry);
    if (this.batch.length >= FLUSH_ENTRIES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** Writes what is batched (synchronously: also called on the way out). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    let text = '';
    for (const entry of this.batch) text += `${JSON.stringify(entry)}\n`;
    const data = Buffer.from(text);
    this.batch = [];
    try {
      if (this.fd === undefined) this.open();
      if (this.bytes > 0 && this.bytes + data.length > MAX_BYTES) this.rotate();
      fs.writeSync(this.fd!, data);
      this.bytes += data.length;
    } catch {
      // A log that cannot be written must not take the proxy down; the requests themselves went through.
    }
  }

  close(): Promise<void> {
    this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    return Promise.resolve();
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    pruneLog(this.file, this.retentionMs);
    this.fd = fs.openSync(this.file, 'a', 0o600);
    fs.fchmodSync(this.fd, 0o600);
    this.bytes = fs.fstatSync(this.fd).size;
  }

  private rotate(): void {
    fs.closeSync(this.fd!);
    this.fd = undefined;
    try {
      fs.renameSync(this.file, `${this.file}.1`);
    } catch {
      // Another run rotated it first.
    }
    this.open();
  }
}

/**
 * Drops what is past retention without ever rewriting a file another run may be appending to:
 * the rotated file goes once its newest entry (its mtime) is past retention; the current file is
 * rotated once its oldest entry is older than half of it (and there is no rotated file left). So
 * `keygate log` never shows an entry past retention, and none stays on disk past about 1.5 times it.
 */
export function pruneLog(file: string, retentionMs: number, now = Date.now()): void {
  const old = `${file}.1`;
  try {
    if (retentionMs === 0 || fs.statSync(old).mtimeMs < now - retentionMs) fs.rmSync(old, { force: true });
  } catch {
    // No rotated file.
  }
  if (retentionMs === 0) {
    fs.rmSync(file, { force: true });
    return;
  }
  if (fs.existsSync(old)) return;
  const first = firstEntryTime(file);
  if (first !== undefined && first < now - retentionMs / 2) {
    try {
      fs.renameSync(file, old);
    } catch {
      // Another run rotated it first.
    }
  }
}

function firstEntryTime(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(1024);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const time = /"time":"([^"]+)"/.exec(buffer.toString('utf8', 0, n))?.[1];
    const ms = time ? Date.parse(time) : NaN;
    return Number.isNaN(ms) ? undefined : ms;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The last `limit` entries within retention, oldest first (the rotated file first, then the current one). */
export async function readRequestLog(home: string, limit: number, retention = retentionDays(home)): Promise<RequestLogEntry[]> {
  const file = path.join(home, LOG_FILE);
  const cutoff = Date.now() - retention * DAY_MS;
  const entries: RequestLogEntry[] = [];
  for (const name of [`${file}.1`, file]) {
    const text = await fsp.readFile(name, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as RequestLogEntry;
        if (Date.parse(entry.time) >= cutoff) entries.push(entry);
      } catch {
        // A line torn by a crash mid-write is skipped.
      }
    }
  }
  return entries.slice(-limit);
}
