// PKCE (RFC 7636) and state values. Discord accepts only S256, with a verifier of 43–128 characters.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Pkce {
  /** Secret until the code exchange: never logged. */
  verifier: string;
  challenge: string;
  method: 'S256';
}

export function createPkce(): Pkce {
  // 64 random bytes → 86 base64url characters, all in the RFC 7636 unreserved set.
  const verifier = randomBytes(64).toString('base64url');
  return { verifier, challenge: s256(verifier), method: 'S256' };
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** An unguessable state value binding the callback to this login attempt. */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison, so the callback server leaks nothing about the state by timing. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
