/**
 * Duende IdentityServer (6 and 7).
 *
 * - Access tokens typed `at+jwt` (`IdentityServerOptions.AccessTokenJwtType`), logout tokens
 *   `logout+jwt`, ID tokens `JWT`: DuendeSoftware/IdentityServer
 *   src/IdentityServer/Configuration/DependencyInjection/Options/IdentityServerOptions.cs,
 *   src/IdentityServer/Services/Default/DefaultTokenCreationService.cs (`CreateHeaderElementsAsync`).
 * - client_credentials payload: `iss`, `nbf`, `iat`, `exp`, `aud` (API resources, or
 *   `{issuer}/resources` with `EmitStaticAudienceClaim`; none otherwise), `scope` as a JSON array
 *   unless `EmitScopesAsSpaceDelimitedStringInJwt`, `client_id`, `jti` (`Client.IncludeJwtId`,
 *   default true); no `sub`: src/IdentityServer/Services/Default/DefaultTokenService.cs,
 *   src/IdentityServer/Services/Default/DefaultClaimsService.cs,
 *   src/IdentityServer/Extensions/TokenExtensions.cs, src/Storage/Models/Client.cs.
 *   ID tokens have `aud` = client id and no `client_id`/`scope`.
 * - `private_key_jwt` audience: token endpoint or issuer, and only the issuer under
 *   `Preview.StrictClientAssertionAudienceValidation`:
 *   src/IdentityServer/Validation/Default/PrivateKeyJwtSecretValidator.cs,
 *   https://docs.duendesoftware.com/identityserver/tokens/client-authentication/
 * - Basic credentials are URL-decoded: .../Validation/Default/BasicAuthenticationSecretParser.cs
 * - DPoP algorithms: RS*, PS*, ES*, no EdDSA (`SupportedDPoPSigningAlgorithms`):
 *   src/IdentityServer/IdentityServerConstants.cs
 */
import type { IdpProfile } from './types.js';

export const duende: IdpProfile = {
  name: 'duende',
  server: {
    typ: ['at+jwt'],
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'client_id', 'jti'],
    scopeClaims: ['scope'],
    clientIdClaims: ['client_id'],
  },
  client: {
    clientAuth: 'client_secret_basic',
    dpopAlgorithms: ['ES256'],
    clientAssertionAudience: 'issuer',
    clientSecretBasicEncoding: 'form',
  },
};
