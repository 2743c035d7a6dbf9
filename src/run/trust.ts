// The CA files a run's child trusts, written to the run's private directory (rundir.ts), which
// lives as long as the run.
// The bundle holds the system roots plus keygate's CA, plus any extra CAs the user already pointed
// the same variables at (a corporate CA must keep working for the hosts keygate only tunnels).
// Node children get keygate's CA alone (the preload adds it to the default roots when TLS is first
// used); wget, which reads no CA variable, gets a wgetrc naming the bundle.
import os from 'node:os';
import fsp from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { createRunDir } from './rundir.js';

const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Inherited variables whose CA files are folded into the bundle. */
const INHERITED_CA_VARIABLES = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'NODE_EXTRA_CA_CERTS'];

export interface RunFiles {
  dir: string;
  /** The private directory holding every run's directory (hidden from a sandboxed command). */
  base: string;
  caBundlePath: string;
  /** keygate's CA alone, for the Node preload ($KEYGATE_CA_CERT). */
  caCertPath: string;
  /** The user's wgetrc (if any) plus `ca_certificate = <bundle>`, for $WGETRC. */
  wgetrcPath: string;
  remove: () => void;
}

export async function writeRunFiles(caCertPem: string, inherited: NodeJS.ProcessEnv, home: string): Promise<RunFiles> {
  const { dir, base, remove } = await createRunDir(home, inherited);
  const caBundlePath = path.join(dir, 'ca-bundle.pem');
  const caCertPath = path.join(dir, 'keygate-ca.pem');
  const wgetrcPath = path.join(dir, 'wgetrc');

  const parts = new Set<string>(tls.rootCertificates.map((c) => c.trim()));
  const system = await readIfExists(SYSTEM_BUNDLE);
  if (system) parts.add(system.trim());
  for (const name of INHERITED_CA_VARIABLES) {
    const text = inherited[name] ? await readIfExists(inherited[name]) : undefined;
    if (text?.includes('-----BEGIN CERTIFICATE-----')) parts.add(text.trim());
  }
  parts.add(caCertPem.trim());
  await fsp.writeFile(caBundlePath, `${[...parts].join('\n')}\n`, { mode: 0o644, flag: 'wx' });

  await fsp.writeFile(caCertPath, `${caCertPem.trim()}\n`, { mode: 0o644, flag: 'wx' });

  // $WGETRC replaces ~/.wgetrc, so the user's settings are carried over; a later line wins in wgetrc.
  const userWgetrc = await readIfExists(inherited.WGETRC ?? path.join(inherited.HOME ?? os.homedir(), '.wgetrc'));
  await fsp.writeFile(wgetrcPath, `${userWgetrc ? `${userWgetrc.trimEnd()}\n` : ''}ca_certificate = ${caBundlePath}\n`, {
    mode: 0o644,
    flag: 'wx',
  });
  return { dir, base, caBundlePath, caCertPath, wgetrcPath, remove };
}

async function readIfExists(file: string): Promise<string | undefined> {
  return fsp.readFile(file, 'utf8').catch(() => undefined);
}
