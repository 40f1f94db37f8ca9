/**
 * ZITADEL (issuer `https://{instance}.zitadel.cloud`, or the custom domain).
 *
 * - Service users get JWT access tokens only with "Access Token Type: JWT"; otherwise opaque:
 *   https://zitadel.com/docs/guides/integrate/service-users/client-credentials
 * - Access tokens: `iss`, `sub`, `aud`, `exp`, `iat`, `nbf`, `client_id`, `jti`; ID tokens carry
 *   `azp` and `client_id` too but no `jti`, and carry `at_hash`/`nonce`/`amr`/`auth_time`:
 *   zitadel/oidc pkg/oidc/token.go (`NewAccessTokenClaims`, `NewIDTokenClaims`),
 *   pkg/op/token.go (`CreateIDToken` sets `at_hash`), zitadel/zitadel
 *   docs/docs/apis/openidoauth/claims.md (claims matrix: `jti` "ID Token: No").
 * - Header `typ: JWT` for every token: zitadel/oidc pkg/op/signer.go (`WithType("JWT")`).
 * - Roles in `urn:zitadel:iam:org:project:roles` (object: role key → org id → domain) and
 *   `urn:zitadel:iam:org:project:{projectId}:roles`: docs/docs/apis/openidoauth/claims.md,
 *   https://zitadel.com/docs/apis/openidoauth/scopes
 * - Basic credentials are URL-decoded (zitadel/oidc pkg/op/client.go `ClientBasicAuth`); JWT
 *   client assertions must name the issuer in `aud` (pkg/op/verifier_jwt_profile.go).
 */
import type { IdpProfile } from './types.js';

export const zitadel: IdpProfile = {
  name: 'zitadel',
  server: {
    typ: ['JWT'],
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'sub', 'jti', ['client_id', 'azp']],
    absentClaims: ['nonce', 'at_hash', 'c_hash'],
    scopeClaims: ['urn:zitadel:iam:org:project:roles', 'scope'],
    clientIdClaims: ['client_id', 'azp'],
  },
  client: {
    clientAuth: 'client_secret_basic',
    clientAssertionAudience: 'issuer',
    clientSecretBasicEncoding: 'form',
  },
};
