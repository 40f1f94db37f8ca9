/**
 * Amazon Cognito user pools (issuer `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`).
 *
 * - Access tokens: header `kid` and `alg` only (no `typ`); payload `sub`, `token_use: access`,
 *   `scope`, `auth_time`, `iss`, `exp`, `iat`, `jti`, `client_id`, `version`, and no `aud`:
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
 *   (awsdocs/amazon-cognito-developer-guide doc_source/amazon-cognito-user-pools-using-the-access-token.md)
 * - ID tokens: `token_use: id`, `aud` = app client id, `at_hash`, `cognito:username`:
 *   doc_source/amazon-cognito-user-pools-using-the-id-token.md
 * - Every app client of a pool gets tokens from the same issuer with the same keys; only
 *   `client_id` tells them apart, so an allow-list is needed:
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
 * - Token endpoint on the pool domain (`https://{domain}.auth.{region}.amazoncognito.com/oauth2/token`),
 *   client secret in Basic, errors as `{"error": "..."}`; no `private_key_jwt`, no DPoP:
 *   doc_source/token-endpoint.md
 */
import type { IdpProfile } from './types.js';

export const cognito: IdpProfile = {
  name: 'cognito',
  server: {
    typ: false,
    requiredClaims: ['iss', 'exp', 'iat', 'jti', 'sub', 'client_id', 'token_use'],
    claimValues: { token_use: 'access' },
    absentClaims: ['nonce', 'at_hash'],
    scopeClaims: ['scope'],
    requiresClientIds: true,
    clientIdClaims: ['client_id'],
  },
  client: {
    clientAuth: 'client_secret_basic',
  },
};
