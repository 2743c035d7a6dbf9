// The emulator's throwaway certificate authority, kept in the directory it is given so clients can
// trust `ca.pem` across restarts. `ca-key.pem` (0600) holds the key and the certificate together and
// is the source of truth; it is created with link(2), which fails if the file exists, so two
// emulators starting on the same directory agree on one CA instead of overwriting each other's.
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createCertificateAuthority, type CertificateAuthority } from '../pki/certs.js';

export const CA_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

/**
 * The CA may only issue for these names (and their subdomains): even if its key leaks from a temp
 * directory, a CA someone added to NODE_EXTRA_CA_CERTS cannot vouch for any other site. `test` is
 * the reserved .test TLD (RFC 6761), which no real site can have: the emulator also answers for
 * extra hosts there, e.g. a provider added from JSON alone.
 */
export const EMULATOR_CA_NAMES = ['discord.com', 'discord.gg', 'localhost', 'test'];
/**
 * And for 127.0.0.1 exactly: a browser, which knows nothing of KEYGATE_CONNECT_TO, reaches the
 * consent page at https://127.0.0.1:<port>, the address `keygate login` prints for it.
 */
export const EMULATOR_CA_IPS = ['127.0.0.1'];
/**
 * Names the CA's version: a CA kept from an older emulator that cannot issue for discord.gg (2),
 * 127.0.0.1 (3) or .test (4) is replaced.
 */
const CA_COMMON_NAME = 'keygate Discord emulator CA 4';

export interface EmulatorCa extends CertificateAuthority {
  /** Absolute path of the PEM certificate clients should trust. */
  caPath: string;
}

export async function loadOrCreateCa(dir: string): Promise<EmulatorCa> {
  const root = path.resolve(dir);
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const keyPath = path.join(root, CA_KEY_FILE);
  let ca = await readBundle(keyPath);
  if (!ca) {
    const fresh = await createCertificateAuthority({
      commonName: CA_COMMON_NAME,
      permittedDnsNames: EMULATOR_CA_NAMES,
      permittedIps: EMULATOR_CA_IPS,
    });
    const created = { keyPem: ensureNewline(fresh.keyPem), certPem: ensureNewline(fresh.certPem) };
    const published = await publishExclusive(keyPath, created.keyPem + created.certPem);
    // Lost the race to another emulator: use the CA it wrote. A leftover unreadable file is replaced.
    ca = published ? created : await readBundle(keyPath);
    if (!ca) {
      await writeAtomic(keyPath, created.keyPem + created.certPem, 0o600);
      ca = created;
    }
  }
  const caPath = path.join(root, CA_FILE);
  const current = await fs.readFile(caPath, 'utf8').catch(() => '');
  if (current !== ca.certPem) await writeAtomic(caPath, ca.certPem, 0o644);
  return { ...ca, caPath };
}

async function readBundle(file: string): Promise<CertificateAuthority | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  if (!keyPem || !certPem) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    const stillValid = Date.parse(cert.validTo) > Date.now() + 24 * 60 * 60 * 1000;
    if (!stillValid || !cert.subject.includes(`CN=${CA_COMMON_NAME}`) || !cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
  } catch {
    return undefined;
  }
  return { keyPem: ensureNewline(keyPem), certPem: ensureNewline(certPem) };
}

/** Create `file` with `content` only if it does not exist yet. False if it already existed. */
async function publishExclusive(file: string, content: string): Promise<boolean> {
  const temp = tempName(file);
  await fs.writeFile(temp, content, { mode: 0o600 });
  try {
    await fs.link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const temp = tempName(file);
  await fs.writeFile(temp, content, { mode });
  await fs.rename(temp, file);
}

/** Unique per call: two emulators in one process may write the same file in the same millisecond. */
function tempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
