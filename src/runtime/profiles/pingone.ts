/**
 * PingOne (issuer `https://auth.pingone.{region}/{environmentId}/as`).
 *
 * - Access tokens: `client_id`, `aud`, `scope` (space-separated), `iss`, `iat`, `exp`, `env` and
 *   `org` when the audience includes the PingOne API; `sub`, `sid`, `acr`, `auth_time` are not
 *   present for client_credentials. Header `kid`, optional `x5t`; `typ: at+jwt` is optional now
 *   and always present from 2 March 2027:
 *   https://developer.pingidentity.com/pingone-api/foundations/authentication-concepts/access-tokens-and-id-tokens/token-claims.html
 * - ID tokens: `sub`, `aud` = client id, `acr`, `amr`, `auth_time`, `nonce`, `sid`, `env`, `org`,
 *   `p1.region`, no `client_id`: same page.
 * - Token endpoint `{issuer}/token`; Basic by default; `private_key_jwt`/`client_secret_jwt`
 *   assertion `aud` may be the token endpoint, the issuer or the endpoint called:
 *   https://developer.pingidentity.com/pingone-api/auth/auth-config-options/create-a-client-secret-jwt.html ,
 *   https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/discovery-openid-configuration.html
 */
import type { IdpProfile } from './types.js';

export const pingone: IdpProfile = {
  name: 'pingone',
  server: {
    typ: false,
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'client_id'],
    absentClaims: ['nonce', 'at_hash'],
    scopeClaims: ['scope'],
    clientIdClaims: ['client_id'],
  },
  client: {
    clientAuth: 'client_secret_basic',
    clientAssertionAudience: 'issuer',
  },
};
