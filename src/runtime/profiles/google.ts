/**
 * Google: Google-signed ID tokens of service accounts, minted for a target audience.
 *
 * Google's OAuth access tokens (`ya29.…`) are opaque; what a resource server can verify is the
 * ID token a workload gets from the metadata server
 * (`/computeMetadata/v1/instance/service-accounts/default/identity?audience=…`), from IAM
 * Credentials `generateIdToken`, or from the JWT-bearer grant with `target_audience`:
 * https://cloud.google.com/docs/authentication/get-id-token ,
 * https://cloud.google.com/run/docs/authenticating/service-to-service ,
 * https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateIdToken
 * - Claims: `iss`, `aud` (the audience asked for), `azp` and `sub` (the service account's unique
 *   id), `iat`, `exp`; `email`/`email_verified` with `format=full` or `includeEmail`; `google`
 *   with Compute Engine details with `format=full`:
 *   https://cloud.google.com/compute/docs/instances/verifying-instance-identity#token_format
 *   Users' ID tokens have `aud` = an OAuth client id and carry `at_hash`/`nonce`:
 *   https://developers.google.com/identity/openid-connect/openid-connect#an-id-tokens-payload
 * - Any service account of any project can mint such a token for any audience, so the audience
 *   proves nothing about the caller: an allow-list of service-account ids (`azp`) is required
 *   (same pages: "the aud claim ... is set to the value you request").
 * - No scopes in these tokens. Issuer `https://accounts.google.com`, also signed as
 *   `accounts.google.com`: same page ("the value of iss ... equals accounts.google.com or
 *   https://accounts.google.com"). Keys: https://www.googleapis.com/oauth2/v3/certs
 * - Google's token endpoint takes JWT-bearer assertions (`aud`
 *   `https://oauth2.googleapis.com/token`), not client_credentials:
 *   https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests
 */
import type { IdpProfile } from './types.js';

export const google: IdpProfile = {
  name: 'google',
  server: {
    typ: ['JWT'],
    requiredClaims: ['iss', 'exp', 'iat', 'aud', 'sub', 'azp'],
    absentClaims: ['nonce', 'at_hash', 'c_hash'],
    scopeClaims: [],
    requiresClientIds: true,
    clientIdClaims: ['azp'],
    issuerAliases: { 'https://accounts.google.com': ['accounts.google.com'] },
  },
  client: {
    clientAssertionAudience: 'token_endpoint',
  },
};
