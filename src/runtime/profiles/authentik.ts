/**
 * authentik OAuth2/OpenID providers (issuer `https://{host}/application/o/{slug}/`).
 *
 * - An access token is the ID token's claims plus `azp` (the provider's client id) and `uid`
 *   (random); both share `aud` = client id, `acr`, `auth_time`, `sub`:
 *   goauthentik/authentik authentik/providers/oauth2/id_token.py (`IDToken.to_access_token`),
 *   authentik/providers/oauth2/models.py (`AccessToken.id_token` setter). Recent releases also
 *   add `jti` and `scope`; older ones have neither, so neither is required here.
 * - client_credentials returns an ID token next to the access token:
 *   authentik/providers/oauth2/views/token.py (`create_client_credentials_response`).
 * - Header from PyJWT: `alg`, `kid`, `typ: JWT`; HS256 with the client secret when the provider
 *   has no signing key: models.py (`OAuth2Provider.jwt_key`, `encode`).
 * - Token endpoint `/application/o/token/` for every provider. client_credentials authenticates
 *   a user by `username` + app password, by `client_secret` = base64(`username:token`), or (2024.4+)
 *   by the provider's own client secret, which makes authentik create a service account:
 *   https://docs.goauthentik.io/add-secure-apps/providers/oauth2/machine_to_machine/ . The Basic
 *   credential is not form-decoded (as the real-IdP issue reports; authentik's docs say nothing).
 * - DPoP: ES*, RS*, PS*, no EdDSA: authentik/providers/oauth2/dpop.py (`DPOP_SUPPORTED_ALGS`).
 */
import type { IdpProfile } from './types.js';

export const authentik: IdpProfile = {
  name: 'authentik',
  server: {
    typ: ['JWT'],
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'sub', 'azp', 'uid'],
    scopeClaims: ['scope'],
    clientIdClaims: ['azp'],
  },
  client: {
    clientAuth: 'client_secret_basic',
    dpopAlgorithms: ['ES256'],
    clientSecretBasicEncoding: 'none',
  },
};
