// A small layer over node-postgres: one pool per store, errors turned into keygate's closed set, and
// transactions for the locked read-modify-write. `pg` is imported here only, and only when a
// postgres:// store is chosen.
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StoreUnavailableError, VaultError } from '../../errors.js';

// How long to wait for the server to accept a connection. A dead host must not hang a command (or a
// proxied request) for the OS's TCP timeout of minutes.
const CONNECT_TIMEOUT_MS = 5_000;
// How long an update waits for another host's lock on the same record: long enough to wait out a
// token refresh over a slow network (the file vault waits the same 60 s).
export const LOCK_WAIT_MS = 60_000;

// SQLSTATE classes and codes that mean "the database is not there right now", not "your request is wrong":
// 08 connection exception, 57P01-03 shutdown/crash/starting, 53300 too many connections.
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

export type Query = <R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;

export class Database {
  private pool: Pool | undefined;
  private loading: Promise<Pool> | undefined;

  constructor(
    private readonly url: string,
    /** The URL without its password, for messages. */
    readonly location: string,
  ) {}

  query: Query = async <R extends QueryResultRow>(text: string, values?: unknown[]) => {
    const pool = await this.connect();
    try {
      return (await pool.query<R>(text, values)).rows;
    } catch (err) {
      throw this.translate(err);
    }
  };

  /** Runs `fn` in a transaction on one connection; commits if it returns, rolls back if it throws. */
  async transaction<T>(fn: (query: Query) => Promise<T>): Promise<T> {
    const pool = await this.connect();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw this.translate(err);
    }
    let broken: unknown;
    // While checked out (e.g. holding a record's lock during a token refresh) a client whose server
    // goes away emits 'error' with nobody listening, which would crash the process. Remember it:
    // the next query on it fails and the transaction is abandoned.
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    const query: Query = async <R extends QueryResultRow>(text: string, values?: unknown[]) => {
      if (broken) throw this.translate(broken);
      try {
        return (await client.query<R>(text, values)).rows;
      } catch (err) {
        broken = err;
        throw this.translate(err);
      }
    };
    try {
      await query('BEGIN');
      const result = await fn(query);
      await query('COMMIT');
      return result;
    } catch (err) {
      // A failed ROLLBACK means the connection is gone, and the server rolls back on its own.
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      // A connection that failed mid-transaction is not returned to the pool for reuse.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.loading = undefined;
    await pool?.end().catch(() => undefined);
  }

  private connect(): Promise<Pool> {
    this.loading ??= (async () => {
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({
        connectionString: this.url,
        max: 10,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        keepAlive: true,
        // Set once per connection rather than per transaction (one round trip less per update). Only
        // keygate's advisory locks ever wait.
        lock_timeout: LOCK_WAIT_MS,
        // A command must exit when it is done even if nobody calls close(); `run` keeps its own work alive.
        allowExitOnIdle: true,
        application_name: 'keygate',
      });
      // An idle connection dropped by a restarting server must not crash the process; the next
      // query gets a fresh connection or a StoreUnavailableError.
      pool.on('error', () => undefined);
      this.pool = pool;
      return pool;
    })();
    return this.loading;
  }

  /** pg's error, as one of keygate's. Never keeps the URL (it may hold a password) in the message. */
  translate(err: unknown): Error {
    if (err instanceof StoreUnavailableError || err instanceof VaultError) return err;
    const e = err as { code?: string; message?: string };
    const code = typeof e?.code === 'string' ? e.code : '';
    const message = typeof e?.message === 'string' ? e.message : String(err);
    if (
      NETWORK_CODES.has(code) ||
      code.startsWith('08') ||
      UNAVAILABLE_CODES.has(code) ||
      /connection terminated|timeout exceeded when trying to connect|connection error|server closed the connection|Connection ended/i.test(
        message,
      )
    ) {
      return new StoreUnavailableError(`cannot reach the shared store ${this.location} (${code || firstLine(message)})`, {
        hint: 'check that PostgreSQL is running and reachable from this host, then retry; nothing was changed',
        cause: err,
      });
    }
    if (code === '28P01' || code === '28000') {
      return new VaultError(
        `the shared store ${this.location} refused the login (${code === '28P01' ? 'wrong password' : 'not allowed'})`,
        {
          hint: 'check the user and password in KEYGATE_STORE (or PGPASSWORD / ~/.pgpass)',
          cause: err,
        },
      );
    }
    if (code === '3D000') {
      return new VaultError(`the database of the shared store ${this.location} does not exist`, {
        hint: 'create it (createdb) or fix KEYGATE_STORE',
        cause: err,
      });
    }
    if (code === '55P03') {
      return new VaultError(`timed out after ${LOCK_WAIT_MS / 1000} s waiting for a lock in the shared store ${this.location}`, {
        hint: 'another keygate holds it (or an update of the same record is nested in an update); retry',
        cause: err,
      });
    }
    return err instanceof Error ? err : new Error(message);
  }
}

function firstLine(text: string): string {
  return (text.split('\n', 1)[0] ?? '').slice(0, 200);
}
