// keygate's interception CA. Generated once (ECDSA P-256) and constrained with critical X.509 Name
// Constraints to the provider API hosts, so even a stolen key cannot mint a certificate a verifier
// accepts for any other site. The private key lives encrypted in the vault; the certificate is also
// exported to KEYGATE_HOME/proxy/ca.pem for people who want to look at it. Leaf certificates are
// issued per host on first use, cached in memory and in the vault, so `run` does no certificate work
// per request and usually none at start-up.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
// The X.509 library costs ~200 ms to load; it is imported only when a certificate must be made.
import type { CaSigner, CertificateAuthority, LeafCertificate } from '../pki/certs.js';
import type { Vault } from '../vault/types.js';
import { writeFileAtomic } from './files.js';

const CA_SECRET = 'proxy-ca-key';
const LEAF_SECRET = 'proxy-leaf-certs';
const DAY = 24 * 60 * 60 * 1000;
/** Renew the CA a month before it expires, so a run never starts with a CA about to lapse. */
const CA_RENEW_BEFORE = 30 * DAY;
/** Leaves live 30 days (certs.ts default); renew when less than two days are left. */
const LEAF_RENEW_BEFORE = 2 * DAY;

export interface ProxyCa {
  /** The CA certificate (PEM): what children trust. */
  readonly certPem: string;
  /** KEYGATE_HOME/proxy/ca.pem, kept equal to certPem. */
  readonly certPath: string;
  /** DNS names (and their subdomains) the CA may issue for, from its Name Constraints. */
  readonly permittedHosts: readonly string[];
  /** A certificate and key for `host`, issued on first use and cached. Throws for a host outside the constraints. */
  leaf(host: string): Promise<LeafCertificate>;
}

export interface LoadProxyCaOptions {
  home: string;
  vault: Pick<Vault, 'readSecret' | 'writeSecret'>;
  /** Every provider API host (of every loaded provider): the CA's constraints must cover them all. */
  hosts: string[];
  now?: () => number;
}

interface StoredCa extends CertificateAuthority {
  permittedHosts: string[];
}

interface StoredLeaves {
  /** certPem of the CA that issued them: a new CA invalidates every cached leaf. */
  ca: string;
  leaves: Record<string, LeafCertificate>;
}

/** True when a Name Constraints entry `permitted` covers `host` (RFC 5280 §4.2.1.10: the name and its subdomains). */
export function isCovered(host: string, permitted: readonly string[]): boolean {
  const name = host.toLowerCase();
  return permitted.some((p) => name === p || name.endsWith(`.${p}`));
}

export async function loadProxyCa(options: LoadProxyCaOptions): Promise<ProxyCa> {
  const now = options.now ?? Date.now;
  const hosts = [...new Set(options.hosts.map((h) => h.toLowerCase()))].sort();
  let stored = parseStoredCa(await options.vault.readSecret(CA_SECRET));
  if (!stored || !usable(stored, hosts, now())) {
    const { createCertificateAuthority } = await import('../pki/certs.js');
    const ca = await createCertificateAuthority({ commonName: 'keygate local proxy CA', permittedDnsNames: hosts });
    stored = { ...ca, permittedHosts: hosts };
    await options.vault.writeSecret(CA_SECRET, Buffer.from(JSON.stringify(stored)));
  }
  const certPath = path.join(options.home, 'proxy', 'ca.pem');
  await exportCertificate(certPath, stored.certPem);
  return new CachedCa(stored, certPath, options.vault, now);
}

function parseStoredCa(data: Buffer | undefined): StoredCa | undefined {
  if (!data) return undefined;
  try {
    const value = JSON.parse(data.toString('utf8')) as Partial<StoredCa>;
    if (typeof value.certPem !== 'string' || typeof value.keyPem !== 'string' || !Array.isArray(value.permittedHosts)) return undefined;
    return value as StoredCa;
  } catch {
    return undefined;
  }
}

/** The stored CA can stay: a valid pair, not about to expire, and its constraints cover every host. */
function usable(ca: StoredCa, hosts: string[], now: number): boolean {
  try {
    const cert = new X509Certificate(ca.certPem);
    if (Date.parse(cert.validTo) - now < CA_RENEW_BEFORE) return false;
    const fromKey = createPublicKey(createPrivateKey(ca.keyPem)).export({ format: 'der', type: 'spki' });
    if (!fromKey.equals(cert.publicKey.export({ format: 'der', type: 'spki' }))) return false;
  } catch {
    return false;
  }
  return hosts.every((h) => isCovered(h, ca.permittedHosts));
}

async function exportCertificate(file: string, certPem: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current !== certPem) await writeFileAtomic(file, certPem, 0o644);
}

class CachedCa implements ProxyCa {
  readonly certPem: string;
  readonly permittedHosts: readonly string[];
  private readonly memory = new Map<string, Promise<LeafCertificate>>();
  private signer: Promise<CaSigner> | undefined;
  private stored: Promise<StoredLeaves> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly ca: StoredCa,
    readonly certPath: string,
    private readonly vault: Pick<Vault, 'readSecret' | 'writeSecret'>,
    private readonly now: () => number,
  ) {
    this.certPem = ca.certPem;
    this.permittedHosts = ca.permittedHosts;
  }

  leaf(host: string): Promise<LeafCertificate> {
    const name = host.toLowerCase();
    let leaf = this.memory.get(name);
    if (!leaf) {
      leaf = this.load(name);
      this.memory.set(name, leaf);
      leaf.catch(() => this.memory.delete(name));
    }
    return leaf;
  }

  private async load(host: string): Promise<LeafCertificate> {
    if (!isCovered(host, this.permittedHosts)) {
      throw new Error(`keygate's CA may not issue a certificate for ${host}: it is constrained to ${this.permittedHosts.join(', ')}`);
    }
    const stored = await this.storedLeaves();
    const cached = stored.leaves[host];
    if (cached && this.fresh(cached)) return cached;
    this.signer ??= import('../pki/certs.js').then(({ loadCertificateAuthority }) => loadCertificateAuthority(this.ca));
    const leaf = await (await this.signer).issue([host]);
    stored.leaves[host] = leaf;
    // A failure to cache is not a failure to serve: the next run simply issues again.
    this.saving = this.saving.then(() => this.vault.writeSecret(LEAF_SECRET, Buffer.from(JSON.stringify(stored))).catch(() => undefined));
    await this.saving;
    return leaf;
  }

  private storedLeaves(): Promise<StoredLeaves> {
    this.stored ??= this.vault.readSecret(LEAF_SECRET).then(
      (data) => {
        try {
          const value = data && (JSON.parse(data.toString('utf8')) as StoredLeaves);
          if (value && value.ca === this.certPem && typeof value.leaves === 'object') return value;
        } catch {
          // A corrupt cache is rebuilt.
        }
        return { ca: this.certPem, leaves: {} };
      },
      () => ({ ca: this.certPem, leaves: {} }),
    );
    return this.stored;
  }

  private fresh(leaf: LeafCertificate): boolean {
    try {
      const cert = new X509Certificate(leaf.certPem);
      return Date.parse(cert.validTo) - this.now() > LEAF_RENEW_BEFORE && cert.verify(new X509Certificate(this.certPem).publicKey);
    } catch {
      return false;
    }
  }
}
