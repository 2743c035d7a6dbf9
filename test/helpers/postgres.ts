// A real PostgreSQL server for the tests, from the system's packages: its own data directory under a
// temp dir, its own port on 127.0.0.1, no Unix socket, stopped at the end. PostgreSQL refuses to run
// as root, so as root the server runs as the `postgres` system user (runuser).
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/ports.js';

const exec = promisify(execFile);

export interface Postgres {
  port: number;
  /** URL of the server's `postgres` database (superuser `postgres`, trust auth on loopback). */
  adminUrl: string;
  dataDir: string;
  /** Crash it: every server process aborts at once (pg_ctl stop -m immediate), as in a power cut. */
  crash(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function postgresBinDir(): string {
  const explicit = process.env.KEYGATE_TEST_PG_BIN;
  if (explicit) return explicit;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    const fromPath = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
    if (fromPath.status === 0 && fs.existsSync(path.join(fromPath.stdout.trim(), 'initdb'))) return fromPath.stdout.trim();
    throw new Error(
      'PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql) or set KEYGATE_TEST_PG_BIN to their directory',
    );
  }
  return path.join(root, versions[0], 'bin');
}

const asRoot = process.getuid?.() === 0;

/** Run a server binary as the user that may run it. */
async function pgExec(bin: string, args: string[]): Promise<string> {
  const file = path.join(postgresBinDir(), bin);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    const { stdout } = await exec(cmd, argv, { timeout: 60_000, cwd: '/' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
  }
}

export async function startPostgres(): Promise<Postgres> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-pg-'));
  fs.chmodSync(base, 0o755);
  const dataDir = path.join(base, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  if (asRoot) {
    const { stdout } = await exec('id', ['-u', 'postgres']);
    const { stdout: gid } = await exec('id', ['-g', 'postgres']);
    fs.chownSync(dataDir, Number(stdout.trim()), Number(gid.trim()));
    fs.chownSync(base, Number(stdout.trim()), Number(gid.trim()));
  }
  await pgExec('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const logFile = path.join(base, 'server.log');
  // fsync=off: a test server need not survive a power cut; a killed server (crash()) still
  // recovers everything it acknowledged, since committed writes reached the OS.
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories= -c fsync=off -c max_connections=200`;
  const pg: Postgres = {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    async start() {
      await pgExec('pg_ctl', ['start', '-D', dataDir, '-w', '-t', '60', '-l', logFile, '-o', options]);
    },
    async crash() {
      await pgExec('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
    },
    async stop() {
      await pgExec('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w']).catch(() => undefined);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  try {
    await pg.start();
  } catch (err) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
    fs.rmSync(base, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${log}`, { cause: err });
  }
  return pg;
}

let counter = 0;

/** A new, empty database on the server; returns its URL. */
export async function freshDatabase(adminUrl: string): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `kg_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}

/** Run one SQL statement against a database (test set-up and inspection). */
export async function sql<R = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    await client.end();
  }
}

/** The run's server (from the global set-up), or a loud failure saying why it is missing. */
export async function sharedPostgres(): Promise<string> {
  const { inject } = await import('vitest');
  const url = inject('postgresUrl');
  if (!url) throw new Error(`the test PostgreSQL server did not start: ${inject('postgresError')}`);
  return url;
}
