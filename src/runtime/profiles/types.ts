/**
 * What a profile says about one identity provider. A profile is data: every field is also an
 * ordinary option of `createResourceServer` or `createAuthClient`, so an IdP without a profile
 * can be configured by hand with the same effect.
 */

/** The IdPs that have a profile. */
export type ProfileName =
  | 'keycloak'
  | 'entra'
  | 'auth0'
  | 'okta'
  | 'cognito'
  | 'google'
  | 'pingone'
  | 'duende'
  | 'zitadel'
  | 'authentik';

/** A claim value a profile can demand. */
export type ClaimValue = string | number | boolean;

/** The resource-server half of a profile: how to tell this IdP's access tokens from its other JWTs. */
export interface ResourceServerProfile {
  /**
   * Accepted JWS `typ` values (compared as media types, `application/` prefix optional).
   * `false`: the header `typ` may be absent, `JWT` or `at+jwt`, nothing else.
   */
  typ?: readonly string[] | false;
  /**
   * Claims that must be present. An inner array means "at least one of these"
   * (Entra: `[['azp', 'appid'], ['roles', 'scp']]`).
   */
  requiredClaims?: readonly (string | readonly string[])[];
  /** Claims that must be present with one of the given values (Keycloak: `{ typ: 'Bearer' }`). */
  claimValues?: Readonly<Record<string, ClaimValue | readonly ClaimValue[]>>;
  /** Claims that must be absent (ID-token markers such as `nonce`, `at_hash`). */
  absentClaims?: readonly string[];
  /**
   * Claims that carry scopes or permissions, in order. A string claim is space-separated, an
   * array claim lists them, an object claim's keys are them (ZITADEL project roles).
   * Default `['scope']`.
   */
  scopeClaims?: readonly string[];
  /**
   * Whether the profile needs an allow-list of client ids (`clientIds`), because this IdP's
   * access tokens carry no audience that tells one app client from another (Cognito).
   */
  requiresClientIds?: boolean;
  /** Claims that hold the client id, in order (`client_id`, `azp`, `appid`). */
  clientIdClaims?: readonly string[];
  /**
   * Issuer rules: alternative spellings the IdP signs with (Google), or a `{tenantid}` template
   * that a multi-tenant discovery document publishes (Entra), filled from the `tid` claim and
   * checked against a tenant allow-list.
   */
  issuerTemplate?: { placeholder: string; claim: string };
  /** Issuer spellings accepted besides a configured one, keyed by it (Google). */
  issuerAliases?: Readonly<Record<string, readonly string[]>>;
  /**
   * Whether a JWK's own `issuer` member, when the key set publishes one, must be one of the
   * issuers accepted for the token, after the `issuerTemplate` placeholder in the key's `issuer`
   * is filled from the token's claim (a v1.0 token of tenant T is thus signed by a key whose
   * `issuer` is `https://login.microsoftonline.com/{tenantid}/v2.0`, filled with T, when that
   * v2.0 issuer is configured too). Entra's multi-tenant key set (`/common/discovery/v2.0/keys`)
   * lists keys of several issuers side by side (the `{tenantid}` template and the consumer
   * tenant `9188040d-…`), and the key's `issuer` is what ties a key to the tenants that may
   * use it. Default `false`.
   * @see https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-issuer
   */
  keyIssuer?: boolean;
}

/** The client half of a profile: what the token request must look like for this IdP. */
export interface AuthClientProfile {
  /** Default client authentication method. */
  clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /**
   * How resource indicators are sent. `'parameter'`: RFC 8707 `resource`; `'scope-default'`:
   * as the scope `<resource>/.default` (Entra refuses `resource`, AADSTS901002).
   */
  resourceAs?: 'parameter' | 'scope-default';
  /** Token-request parameters the IdP needs besides the RFC's (Auth0: `audience`). Names only. */
  audienceParameter?: string;
  /** DPoP algorithms the IdP accepts, in order of preference, when discovery lists none. */
  dpopAlgorithms?: readonly string[];
  /** The `aud` of a `private_key_jwt` assertion. */
  clientAssertionAudience?: 'issuer' | 'token_endpoint';
  /** Whether the Basic credential is form-encoded (RFC 6749 §2.3.1) before base64. */
  clientSecretBasicEncoding?: 'form' | 'none';
}

/** One IdP's profile. */
export interface IdpProfile {
  name: ProfileName;
  server: ResourceServerProfile;
  client: AuthClientProfile;
}
