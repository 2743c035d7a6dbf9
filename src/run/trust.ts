// The CA files a run's child trusts, written to the run's private directory (rundir.ts), which
// lives as long as the run.
// The bundle holds the system roots plus keygate's CA, plus any extra CAs the user already pointed
// the same variables at (a corporate CA must keep working for the hosts keygate only tunnels).
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
  nodeCaPath: string;
  remove(): void;
}

export async function writeRunFiles(caCertPem: string, inherited: NodeJS.ProcessEnv, home: string): Promise<RunFiles> {
  const { dir, base, remove } = await createRunDir(home, inherited);
  const caBundlePath = path.join(dir, 'ca-bundle.pem');
  const nodeCaPath = path.join(dir, 'node-extra-ca.pem');

  const parts = new Set<string>(tls.rootCertificates.map((c) => c.trim()));
  const system = await readIfExists(SYSTEM_BUNDLE);
  if (system) parts.add(system.trim());
  for (const name of INHERITED_CA_VARIABLES) {
    const text = inherited[name] ? await readIfExists(inherited[name]!) : undefined;
    if (text?.includes('-----BEGIN CERTIFICATE-----')) parts.add(text.trim());
  }
  parts.add(caCertPem.trim());
  await fsp.writeFile(caBundlePath, `${[...parts].join('\n')}\n`, { mode: 0o644, flag: 'wx' });

  const nodeParts = [caCertPem.trim()];
  const nodeExtra = inherited.NODE_EXTRA_CA_CERTS ? await readIfExists(inherited.NODE_EXTRA_CA_CERTS) : undefined;
  if (nodeExtra?.includes('-----BEGIN CERTIFICATE-----')) nodeParts.push(nodeExtra.trim());
  await fsp.writeFile(nodeCaPath, `${nodeParts.join('\n')}\n`, { mode: 0o644, flag: 'wx' });
  return { dir, base, caBundlePath, nodeCaPath, remove };
}

async function readIfExists(file: string): Promise<string | undefined> {
  return fsp.readFile(file, 'utf8').catch(() => undefined);
}
