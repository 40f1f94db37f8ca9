/**
 * Independent checks of DPoP proofs (RFC 9449 §4.2-4.3) with jose alone, so tests do not
 * trust the SDK to grade its own output.
 */
import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeJwt,
  EmbeddedJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';

export interface VerifiedProof {
  payload: JWTPayload & { htm?: unknown; htu?: unknown; ath?: unknown; nonce?: unknown };
  header: { alg: string; typ?: string; jwk?: JWK };
  /** RFC 7638 thumbprint of the embedded public key. */
  jkt: string;
}

/** Verifies a proof's signature with its embedded `jwk` and its `typ`; returns its parts. */
export async function verifyDpopProof(
  proof: string | string[] | undefined,
): Promise<VerifiedProof> {
  if (typeof proof !== 'string')
    throw new Error(`expected one DPoP proof, got ${JSON.stringify(proof)}`);
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
  const jwk = protectedHeader.jwk as JWK;
  return {
    payload: payload,
    header: protectedHeader,
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
  };
}

/** base64url(SHA-256(accessToken)): the `ath` a proof for that token must carry. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** The `cnf.jkt` of a JWT access token (undefined when absent). */
export function confirmationThumbprint(accessToken: string): string | undefined {
  const { cnf } = decodeJwt(accessToken) as { cnf?: { jkt?: string } };
  return cnf?.jkt;
}
