/**
 * Auth0 (issuer `https://{tenant}.auth0.com/`, trailing slash).
 *
 * - Two access-token dialects: the default Auth0 profile (`typ: JWT`, caller in `azp`,
 *   client_credentials tokens add `gty: client-credentials` and `sub: {client_id}@clients`) and the
 *   RFC 9068 profile (`typ: at+jwt`, caller in `client_id`, `jti`); `permissions` is added by the
 *   `_authz` dialects: https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles ,
 *   https://auth0.com/docs/get-started/apis/configure-access-token-profile .
 * - The token request needs `audience` (the API identifier); without it: 403 `access_denied`
 *   "No audience parameter was provided, and no default audience has been configured":
 *   https://auth0.com/docs/get-started/authentication-and-authorization-flow/client-credentials-flow/call-your-api-using-the-client-credentials-flow
 * - ID tokens have `aud` = the application's client id and no `azp`/`client_id`/`scope`:
 *   https://auth0.com/docs/secure/tokens/id-tokens/id-token-structure
 * - `private_key_jwt` assertion `aud` is the tenant domain URL (the issuer):
 *   https://auth0.com/docs/get-started/authentication-and-authorization-flow/authenticate-with-private-key-jwt
 * - DPoP is Early Access; proofs use ES256:
 *   https://auth0.com/docs/secure/sender-constraining/demonstrating-proof-of-possession-dpop
 */
import type { IdpProfile } from './types.js';

export const auth0: IdpProfile = {
  name: 'auth0',
  server: {
    typ: ['JWT', 'at+jwt'],
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'sub', ['azp', 'client_id']],
    absentClaims: ['nonce', 'at_hash'],
    scopeClaims: ['scope', 'permissions'],
    clientIdClaims: ['client_id', 'azp'],
  },
  client: {
    clientAuth: 'client_secret_post',
    audienceParameter: 'audience',
    dpopAlgorithms: ['ES256'],
    clientAssertionAudience: 'issuer',
  },
};
