/**
 * s2s-auth/schemas: zod schemas of every document an authorization server sends, generated
 * from the same `openapi.yaml` as the SDK's own checks, for services that read IdP documents
 * themselves. `zTokenResponse`, `zAuthorizationServerMetadata`, `zOpenIdProviderMetadata`,
 * `zJsonWebKeySet`, `zIntrospectionResponse`, `zOAuthErrorResponse` and the rest. The SDK's
 * other entry points do not use zod; only this one loads it, and it needs `zod` 4 installed
 * beside the package (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { zIntrospectionResponse } from 's2s-auth/schemas';
 *
 * const result = zIntrospectionResponse.safeParse(await response.json());
 * if (result.success && result.data.active) console.log(result.data.scope);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2
 * @module s2s-auth/schemas
 */
export * from './generated/zod.js';
