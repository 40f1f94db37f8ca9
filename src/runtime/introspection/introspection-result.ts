import type { components } from '../../generated/openapi.js';

/** The answer as the spec's schema defines it, generated from `openapi.yaml`. */
type IntrospectionResponse = components['schemas']['IntrospectionResponse'];

// An interface over the generated type rather than an alias of it, so editors and the d.ts show
// it by its name.
/**
 * An RFC 7662 §2.2 introspection response: `active`, and for an active token its claims
 * (`scope`, `client_id`, `exp`, `aud`, `cnf`, and whatever else the server adds). An inactive
 * token's answer is `{ active: false }` and nothing more.
 *
 * The members, as `IntrospectionResponse` in `openapi.yaml` defines them:
 *
 * - `active`: whether the token is active (issued by this server, not expired, not revoked);
 * - `scope`: granted scopes, space-separated;
 * - `client_id`: the client the token was issued to;
 * - `username`: a human-readable identifier of the resource owner, when there is one;
 * - `token_type`: the token's type, e.g. `Bearer` or `DPoP`;
 * - `exp`, `iat`, `nbf`: expiry, issued-at and not-before, in seconds since the epoch;
 * - `sub`: the subject, the client itself for a client-credentials token;
 * - `aud`: the audience(s) the token is for; `iss`: the issuer; `jti`: its unique identifier;
 * - `cnf`: confirmation (RFC 7800 §3.1); `jkt` binds the token to a DPoP key (RFC 9449 §6.1);
 * - any other member the server adds, as `unknown`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2
 */
export interface IntrospectionResult extends IntrospectionResponse {}
