/**
 * Okta custom authorization servers (issuer `https://{org}.okta.com/oauth2/{authServerId}`).
 *
 * - Access tokens: `ver`, `jti` (`AT.…`), `iss`, `aud`, `iat`, `exp`, `cid` (client id), `scp`
 *   (array), `sub` (the client id for client_credentials), `uid` only with a user:
 *   https://developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/#access-token-payload
 *   ID tokens carry no `cid`/`scp` and have `aud` = client id, `amr`, `idp`, `at_hash`, `nonce`:
 *   https://developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/#id-token-payload
 * - Custom-server access tokens carry no header `typ`; tokens of the org authorization server
 *   are typed `application/okta-internal-at+jwt` and are for Okta's own APIs, not for yours:
 *   https://developer.okta.com/docs/concepts/auth-servers/ ,
 *   https://devforum.okta.com/t/okta-access-token-type-is-not-jwt/29515
 * - client_credentials needs a scope; `private_key_jwt` assertion `aud` is the token endpoint:
 *   https://developer.okta.com/docs/guides/implement-grant-type/clientcreds/main/ ,
 *   https://developer.okta.com/docs/api/openapi/okta-oauth/guides/client-auth/
 * - DPoP: `dpop_signing_alg_values_supported` lists RS/ES only, no EdDSA; Okta always answers the
 *   first proof with `use_dpop_nonce`: https://developer.okta.com/docs/guides/dpop/main/
 */
import type { IdpProfile } from './types.js';

export const okta: IdpProfile = {
  name: 'okta',
  server: {
    typ: false,
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'sub', 'jti', 'cid', 'scp'],
    absentClaims: ['nonce', 'at_hash'],
    scopeClaims: ['scp'],
    clientIdClaims: ['cid'],
  },
  client: {
    clientAuth: 'client_secret_basic',
    dpopAlgorithms: ['ES256'],
    clientAssertionAudience: 'token_endpoint',
  },
};
