/**
 * Microsoft Entra ID, v1.0 and v2.0 tokens.
 *
 * - Header `typ` is always `JWT`; no `jti` (Entra uses `uti`), no `client_id`:
 *   https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 *   (MicrosoftDocs/entra-docs docs/identity-platform/access-token-claims-reference.md).
 * - App-only tokens name the caller in `azp` (v2.0) or `appid` (v1.0) and carry app
 *   permissions in `roles`; delegated tokens carry `scp`. ID tokens carry neither `azp`/`appid`
 *   nor `scp`: docs/identity-platform/id-token-claims-reference.md.
 * - App-only tokens may come without `roles` unless assignment is required on the API:
 *   docs/identity-platform/v2-oauth2-client-creds-grant-flow.md ("Controlling tokens without the
 *   roles claim").
 * - Multi-tenant discovery (`/common`, `/organizations`) publishes
 *   `https://login.microsoftonline.com/{tenantid}/v2.0`, and its keys carry an `issuer` member:
 *   https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration ,
 *   https://login.microsoftonline.com/common/discovery/v2.0/keys (mirrored in panva/wellknown
 *   issuers/entra-common). v1.0 tokens are issued by `https://sts.windows.net/{tenantid}/`.
 * - Token requests: `scope=<resource>/.default` (v2.0 refuses `resource`, AADSTS901002); secret
 *   in the body or Basic; `private_key_jwt` audience is the token endpoint:
 *   docs/identity-platform/v2-oauth2-client-creds-grant-flow.md,
 *   docs/identity-platform/certificate-credentials.md. No RFC 9449 DPoP.
 */
import type { IdpProfile } from './types.js';

export const entra: IdpProfile = {
  name: 'entra',
  server: {
    typ: ['JWT'],
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'sub', 'tid', ['azp', 'appid'], ['roles', 'scp']],
    scopeClaims: ['roles', 'scp'],
    clientIdClaims: ['azp', 'appid'],
    issuerTemplate: { placeholder: '{tenantid}', claim: 'tid' },
    keyIssuer: true,
  },
  client: {
    clientAuth: 'client_secret_post',
    resourceAs: 'scope-default',
    clientAssertionAudience: 'token_endpoint',
    clientSecretBasicEncoding: 'form',
  },
};
