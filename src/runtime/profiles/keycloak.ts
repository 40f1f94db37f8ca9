/**
 * Keycloak (realm issuer `https://{host}/realms/{realm}`).
 *
 * - Header `typ` is `JWT`; `at+jwt` only when the client sets "Use at+jwt as access token
 *   header type" (`access.token.header.type.rfc9068`, Keycloak 26.2):
 *   keycloak/keycloak services/.../jose/jws/DefaultTokenManager.java (`type(TokenCategory)`),
 *   core/.../util/TokenUtil.java (`TOKEN_TYPE_JWT_ACCESS_TOKEN`, `TOKEN_TYPE_JWT_LOGOUT_TOKEN`).
 * - Payload `typ`: access `Bearer` (`DPoP` when DPoP-bound), ID token `ID`, refresh `Refresh`,
 *   offline `Offline`, logout `Logout`: core/.../util/TokenUtil.java; DPoP tokens are checked
 *   against `[Bearer, DPoP]` in services/.../util/DPoPUtil.java (`withDPoPVerifier`).
 * - `azp` is always set (issuedFor); `client_id` comes from the default `service_account`
 *   client scope and `sub` from the default `basic` scope (Keycloak 25+):
 *   services/.../protocol/oidc/OIDCLoginProtocolFactory.java (`addServiceAccountClientScope`,
 *   `addBasicClientScope`). Lightweight access tokens drop both, so neither is required here.
 * - Roles: `realm_access.roles`, `resource_access.{client}.roles` (same file, `REALM_ROLES`,
 *   `CLIENT_ROLES`); `scope` is a space-separated string.
 * - Client auth: Basic by default, decoded per RFC 6749 §2.3.1; `private_key_jwt` audience is
 *   the realm issuer or the token endpoint:
 *   https://www.keycloak.org/docs/latest/server_admin/#_service_accounts ,
 *   https://www.keycloak.org/docs/latest/securing_apps/#_client_authentication_with_signed_jwt
 * - DPoP algorithms come from discovery (`dpop_signing_alg_values_supported`).
 */
import type { IdpProfile } from './types.js';

export const keycloak: IdpProfile = {
  name: 'keycloak',
  server: {
    typ: ['JWT', 'at+jwt'],
    requiredClaims: ['iss', 'exp', 'iat', 'jti', 'aud', 'azp'],
    claimValues: { typ: ['Bearer', 'DPoP'] },
    scopeClaims: ['scope'],
    clientIdClaims: ['client_id', 'azp'],
  },
  client: {
    clientAuth: 'client_secret_basic',
    clientAssertionAudience: 'issuer',
    clientSecretBasicEncoding: 'form',
  },
};
