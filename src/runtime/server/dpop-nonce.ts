import { randomBase64url } from '../crypto/backend.js';
import type { Clock } from '../shared/options.js';

/**
 * Issues and checks the nonces a resource server asks DPoP proofs to carry (RFC 9449 §9), which
 * bounds how long a proof made in advance stays usable. The default keeps a random nonce in
 * memory and rotates it; services on several instances supply their own provider backed by a
 * shared secret or store.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 * @example
 * ```ts
 * const nonces: DpopNonceProvider = {
 *   current: () => sharedNonce.get(),
 *   isValid: (nonce) => sharedNonce.accepts(nonce),
 * };
 * const server = createResourceServer({ issuer, audience, dpop: { nonce: nonces } });
 * ```
 */
export interface DpopNonceProvider {
  /** The nonce to send now in a `DPoP-Nonce` header. */
  current(): string | Promise<string>;
  /** Whether a proof's `nonce` is acceptable now. */
  isValid(nonce: string): boolean | Promise<boolean>;
}

/**
 * A nonce in memory, replaced every `lifetimeSeconds` on the injected clock. The one before it
 * is still accepted, so a client that just learned a nonce is not bounced by a rotation.
 */
export function createRotatingNonceProvider(
  lifetimeSeconds: number,
  now: Clock,
): DpopNonceProvider {
  const lifetimeMs = lifetimeSeconds * 1000;
  let current = randomBase64url(16);
  let previous: string | undefined;
  let rotatedAt = now().getTime();

  function rotate(): void {
    const at = now().getTime();
    const elapsed = at - rotatedAt;
    if (elapsed < lifetimeMs) return;
    // After two lifetimes or more, the old nonce is too old to accept as well.
    previous = elapsed < 2 * lifetimeMs ? current : undefined;
    current = randomBase64url(16);
    rotatedAt = at;
  }

  return {
    current() {
      rotate();
      return current;
    },
    isValid(nonce) {
      rotate();
      return nonce === current || (previous !== undefined && nonce === previous);
    },
  };
}
