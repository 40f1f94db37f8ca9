/**
 * What tests of the token client read from the oidc-provider test IdP (test/support/idp.ts):
 * options for its Basic client, how many token and discovery requests it received, and the
 * DPoP proof of the last token request.
 */
import type { AuthClientOptions } from '../../src/index.js';
import { verifyDpopProof, type VerifiedProof } from './dpop.js';
import { CLIENTS, type TestIdp } from './idp.js';

/** `createAuthClient` options of the IdP's `client_secret_basic` client, with `overrides`. */
export function basicClientOptions(
  on: TestIdp,
  overrides: Partial<AuthClientOptions> = {},
): AuthClientOptions {
  return {
    issuer: on.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    ...overrides,
  };
}

/** How many token requests the IdP received. */
export function tokenRequests(on: TestIdp): number {
  return on.count('/token', 'POST');
}

/** How many discovery documents the IdP served, RFC 8414 and OpenID Connect together. */
export function discoveryRequests(on: TestIdp): number {
  return (
    on.count('/.well-known/oauth-authorization-server') +
    on.count('/.well-known/openid-configuration')
  );
}

/** The DPoP proof of the last token request the IdP received, verified. */
export function lastTokenProof(on: TestIdp): Promise<VerifiedProof> {
  const request = on.requests.filter((r) => r.path === '/token' && r.method === 'POST').at(-1);
  return verifyDpopProof(request?.headers.dpop);
}
