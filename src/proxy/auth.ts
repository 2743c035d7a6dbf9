// The run's proxy credentials. Every local process can reach 127.0.0.1, so the proxy only serves
// clients that present this run's random password, which only the child's environment holds.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const PROXY_USER = 'keygate';
export const PROXY_REALM = 'keygate';

export interface ProxyCredentials {
  readonly username: string;
  /** Not a provider credential, but still only for the child: never logged. */
  readonly password: string;
  /** True when a `Proxy-Authorization` header value carries these credentials (constant time). */
  check(header: string | undefined): boolean;
}

export function createProxyCredentials(password = randomBytes(24).toString('base64url')): ProxyCredentials {
  // Compare digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
  const expected = digest(`${PROXY_USER}:${password}`);
  return {
    username: PROXY_USER,
    password,
    check(header) {
      if (!header) return false;
      const match = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
      if (!match) return false;
      return timingSafeEqual(digest(Buffer.from(match[1], 'base64').toString('utf8')), expected);
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
