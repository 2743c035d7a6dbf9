// The checks that need no provider: KEYGATE_HOME, the master key, the CA files, the sandbox, the port.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { inspectHome } from '../home.js';
import { probeSandbox } from '../sandbox/index.js';
import { Layout } from '../vault/layout.js';
import { readConfig } from '../vault/vault-config.js';
import type { Store } from '../store/index.js';
import { type Check, fail, pass, skip } from './types.js';

const mode = (m: number) => (m & 0o777).toString(8).padStart(4, '0');

export function homeCheck(home: string): Check {
  const title = 'KEYGATE_HOME';
  const problem = inspectHome(home);
  if (problem) return fail('home', title, problem.message, problem.hint);
  if (!fs.existsSync(home)) return pass('home', title, `${home} does not exist yet; it is created 0700 on first use`);
  return pass('home', title, `${home}: yours, mode ${mode(fs.statSync(home).mode)}`);
}

/** The key backend answers and holds this vault's key; for the key-file backend, its mode too. */
export async function keyCheck(store: Store, home: string): Promise<Check> {
  const title = 'master key';
  try {
    if (store.kind === 'files') {
      const layout = new Layout(home);
      const config = await readConfig(layout.config);
      // No vault yet: looking for the key would create one, which is login's job, not doctor's.
      if (!config)
        return pass('key', title, 'no vault yet; the first login chooses a backend (OS keychain, KEYGATE_PASSPHRASE or a key file)');
      if (config.backend === 'keyfile' && fs.existsSync(layout.keyFile)) {
        const m = fs.statSync(layout.keyFile).mode;
        if (m & 0o077)
          return fail(
            'key',
            title,
            `${layout.keyFile} is readable or writable by others (mode ${mode(m)})`,
            `run \`chmod 600 ${layout.keyFile}\``,
          );
      }
      await store.checkKey();
      const where =
        config.backend === 'keyfile'
          ? `key file ${layout.keyFile}, mode 0600`
          : config.backend === 'passphrase'
            ? 'KEYGATE_PASSPHRASE'
            : 'the OS keychain';
      return pass('key', title, `${where}: reachable, and it opens this vault`);
    }
    await store.checkKey();
    return pass('key', title, `${store.kind} store ${store.location}: the key opens it`);
  } catch (err) {
    const e = err as { message?: string; hint?: string };
    return fail('key', title, e.message ?? String(err), e.hint ?? 'see `keygate list`');
  }
}

/** NODE_EXTRA_CA_CERTS (what keygate's own calls trust) and the proxy CA keygate issues from. */
export function caChecks(home: string, env: NodeJS.ProcessEnv, now = Date.now()): Check[] {
  const checks: Check[] = [];
  const extra = env.NODE_EXTRA_CA_CERTS;
  if (!extra) checks.push(pass('ca.extra', 'NODE_EXTRA_CA_CERTS', 'not set: keygate trusts the system roots only'));
  else
    checks.push(
      certFile('ca.extra', 'NODE_EXTRA_CA_CERTS', extra, now, 'point NODE_EXTRA_CA_CERTS at a PEM file of CA certificates, or unset it'),
    );
  const proxyCa = path.join(home, 'proxy', 'ca.pem');
  if (fs.existsSync(proxyCa))
    checks.push(certFile('ca.proxy', 'proxy CA', proxyCa, now, `delete ${proxyCa}; the next \`keygate run\` writes it again`));
  else checks.push(skip('ca.proxy', 'proxy CA', 'not created yet; the first `keygate run` creates it'));
  return checks;
}

function certFile(id: string, title: string, file: string, now: number, fix: string): Check {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return fail(id, title, `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, fix);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return fail(id, title, `${file} holds no PEM certificate`, fix);
  for (const block of blocks) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      return fail(id, title, `${file} holds a certificate that does not parse`, fix);
    }
    if (Date.parse(cert.validTo) < now)
      return fail(id, title, `${file}: ${cert.subject.replace(/\n/g, ', ')} expired on ${new Date(cert.validTo).toISOString()}`, fix);
    if (Date.parse(cert.validFrom) > now)
      return fail(
        id,
        title,
        `${file}: ${cert.subject.replace(/\n/g, ', ')} is not valid before ${new Date(cert.validFrom).toISOString()}`,
        "check this machine's clock",
      );
  }
  return pass(id, title, `${file}: ${blocks.length} certificate${blocks.length > 1 ? 's' : ''}, valid now`);
}

/**
 * Whether `run` can sandbox its child: the sandbox's own probe (bwrap on PATH, user namespaces not
 * switched off), then one real bubblewrap start, since a kernel or container can still refuse the
 * namespaces the probe thinks are there.
 */
export async function sandboxCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const title = 'sandbox for `keygate run`';
  if (process.platform !== 'linux') return skip('sandbox', title, `no sandbox on ${process.platform} yet`);
  const probe = probeSandbox(env);
  if (!probe.ok) return fail('sandbox', title, probe.reason, probe.fix);
  const { bwrap } = probe;
  const result = await new Promise<{ ok: boolean; stderr: string }>((resolve) => {
    execFile(
      bwrap,
      ['--ro-bind', '/', '/', '--dev', '/dev', '--unshare-pid', '--die-with-parent', 'true'],
      { timeout: 5000 },
      (err, _stdout, stderr) => resolve({ ok: !err, stderr: String(stderr).trim().split('\n')[0] ?? '' }),
    );
  });
  if (!result.ok)
    return fail(
      'sandbox',
      title,
      `${bwrap} cannot create a sandbox here${result.stderr ? ` (${result.stderr})` : ''}`,
      'allow unprivileged user namespaces (e.g. `sysctl kernel.unprivileged_userns_clone=1`), or run with --no-sandbox',
    );
  return pass('sandbox', title, `${bwrap} works`);
}

export function portCheck(port: number): Promise<Check> {
  const title = 'login callback port';
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve(
        fail(
          'port',
          title,
          `127.0.0.1:${port} is in use (${err.code})`,
          `stop what listens there, or log in with --port <n> and register that redirect URI`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(pass('port', title, `127.0.0.1:${port} is free`))));
  });
}
