// Certificate authority and leaf certificates, ECDSA P-256, built with @peculiar/x509 on WebCrypto.
// Used by keygate's interception CA (src/proxy/) and by the Discord emulator (src/emulator/).
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { webcrypto, X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface CertificateAuthority {
  certPem: string;
  /** Secret: PKCS#8 PEM. Callers store it encrypted or 0600. */
  keyPem: string;
}

export interface LeafCertificate {
  certPem: string;
  keyPem: string;
}

export interface CreateCaOptions {
  commonName: string;
  /**
   * DNS names the CA may issue for (each also permits its subdomains). When given, the CA carries a
   * critical X.509 Name Constraints extension (RFC 5280 §4.2.1.10) so that even a stolen CA key cannot
   * mint a certificate any verifier accepts for another site. IP addresses are excluded outright:
   * constraints apply only to the name forms they list, so without the exclusion an IP SAN would pass.
   */
  permittedDnsNames?: string[];
  /** IPv4 addresses the CA may also issue for (each exactly); every other IP stays excluded. */
  permittedIps?: string[];
  validDays?: number;
}

export async function createCertificateAuthority(options: CreateCaOptions): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (options.permittedDnsNames) {
    extensions.push(nameConstraintsExtension(options.permittedDnsNames, options.permittedIps ?? []));
  }
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDn(options.commonName)}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + (options.validDays ?? 3650) * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** A loaded CA, ready to sign leaves quickly (the key import happens once). */
export interface CaSigner {
  certPem: string;
  issue(hostnames: string[], validDays?: number): Promise<LeafCertificate>;
}

export async function loadCertificateAuthority(ca: CertificateAuthority): Promise<CaSigner> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const der = createPrivateKey(ca.keyPem).export({ format: 'der', type: 'pkcs8' });
  const caKey = await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caCert, false);
  return {
    certPem: ca.certPem,
    async issue(hostnames, validDays = 30) {
      if (hostnames.length === 0) throw new Error('a leaf certificate needs at least one hostname');
      const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
      const now = Date.now();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${escapeDn(hostnames[0])}`,
        issuer: caCert.subject,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + validDays * DAY),
        publicKey: keys.publicKey,
        signingKey: caKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
          new x509.SubjectAlternativeNameExtension(
            hostnames.map((value) => ({ type: isIP(value) ? ('ip' as const) : ('dns' as const), value })),
            false,
          ),
          authorityKeyId,
        ],
      });
      return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
    },
  };
}

/** True when `certPem` is a valid PEM certificate (used to check files read back from disk). */
export function isCertificatePem(certPem: string): boolean {
  try {
    new X509Certificate(certPem);
    return true;
  } catch {
    return false;
  }
}

function nameConstraintsExtension(dnsNames: string[], ips: string[]): x509.Extension {
  const permitted = new GeneralSubtrees([
    ...dnsNames.map((name) => new GeneralSubtree({ base: new GeneralName({ dNSName: name }) })),
    ...ips.map((ip) => new GeneralSubtree({ base: new GeneralName({ iPAddress: `${ip}/32` }) })),
  ]);
  // Once an iPAddress subtree is permitted, other IPv4 addresses are refused by it; excluding
  // 0.0.0.0/0 as well would refuse the permitted ones too (exclusions win).
  const excluded = new GeneralSubtrees([
    ...(ips.length === 0 ? [new GeneralSubtree({ base: new GeneralName({ iPAddress: '0.0.0.0/0' }) })] : []),
    new GeneralSubtree({ base: new GeneralName({ iPAddress: '::/0' }) }),
  ]);
  const value = AsnConvert.serialize(new NameConstraints({ permittedSubtrees: permitted, excludedSubtrees: excluded }));
  return new x509.Extension(id_ce_nameConstraints, true, value);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  // Positive 128-bit serial (top bit cleared), as RFC 5280 §4.1.2.2 asks for.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0] & 0x7f;
  return bytes.toString('hex');
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}
