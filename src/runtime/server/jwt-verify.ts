import type { AsymmetricAlgorithm } from './algorithms.js';
import { decodeJsonObject, normaliseMediaType, parseCompactJws } from './compact-jws.js';
import type { JwksCache } from './jwks-cache.js';
import { reject } from './rejection.js';
import type { SignatureVerifier } from './signature.js';
import { fingerprintOf, type VerifiedToken, type VerifiedTokenCache } from './verified-tokens.js';

/**
 * The claims of a verified JWT access token (RFC 9068 §2.2). The registered claims listed here
 * have been type-checked; any other claim the issuer added is passed through as it came.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 * @example
 * ```ts
 * const claims: AccessTokenClaims = await server.verifyToken(token);
 * console.log(claims.client_id, claims.scope, claims.cnf?.jkt);
 * ```
 */
export interface AccessTokenClaims {
  /** The issuer, equal to the configured `issuer`. */
  iss: string;
  /** Expiry, in seconds since the epoch. Always present. */
  exp: number;
  /** The audience(s) the token is for. */
  aud?: string | string[];
  /** The subject: the client itself for a client-credentials token. */
  sub?: string;
  /** The OAuth client the token was issued to (RFC 9068 §2.2, RFC 8693 §4.3). */
  client_id?: string;
  /** Granted scopes, space-separated (RFC 9068 §2.2.3, RFC 8693 §4.2). */
  scope?: string;
  /** Issued-at, in seconds since the epoch. */
  iat?: number;
  /** Not-before, in seconds since the epoch. */
  nbf?: number;
  /** The token's unique identifier. */
  jti?: string;
  /** Confirmation (RFC 7800 §3.1); `jkt` binds the token to a DPoP key (RFC 9449 §6.1). */
  cnf?: { jkt?: string; [member: string]: unknown };
  [claim: string]: unknown;
}

/** What an access token is checked against, fixed for a resource server. */
export interface AccessTokenRules {
  issuer: string;
  algorithms: ReadonlySet<AsymmetricAlgorithm>;
  /** The normalised media type `typ` must have, or `false` to skip the check. */
  typ: string | false;
  /** Claims every token must carry, besides `iss` and `exp` (always required). */
  requiredClaims: readonly string[];
  clockToleranceSeconds: number;
  maxTokenLength: number;
  jwks: JwksCache;
  verifySignature: SignatureVerifier;
  /** Tokens verified before, by their exact string; `undefined` verifies every time in full. */
  verified: VerifiedTokenCache | undefined;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function optional(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  test: (value: unknown) => boolean,
): void {
  const value = claims[name];
  if (value !== undefined && !test(value)) {
    reject('claims', `the ${name} claim has the wrong type`, { claim: name });
  }
}

function isString(value: unknown): boolean {
  return typeof value === 'string';
}

function isStringOrStringArray(value: unknown): boolean {
  return typeof value === 'string' || isStringArray(value);
}

function isConfirmation(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { jkt } = value as Record<string, unknown>;
  return jkt === undefined || (typeof jkt === 'string' && jkt.length > 0);
}

/** RFC 7519 §4.1: a claim of the wrong type makes the token invalid, even one that is not checked. */
function checkClaimTypes(
  claims: Readonly<Record<string, unknown>>,
): asserts claims is AccessTokenClaims {
  const { iss, exp } = claims;
  if (iss === undefined) reject('issuer', 'the token names no issuer');
  if (typeof iss !== 'string')
    reject('claims', 'the iss claim has the wrong type', { claim: 'iss' });
  if (exp === undefined) reject('claims', 'the token has no exp claim', { claim: 'exp' });
  if (!isFiniteNumber(exp)) reject('claims', 'the exp claim has the wrong type', { claim: 'exp' });
  optional(claims, 'nbf', isFiniteNumber);
  optional(claims, 'iat', isFiniteNumber);
  optional(claims, 'aud', isStringOrStringArray);
  optional(claims, 'sub', isString);
  optional(claims, 'client_id', isString);
  optional(claims, 'jti', isString);
  optional(claims, 'scope', isString);
  optional(claims, 'cnf', isConfirmation);
}

/** Every required claim must be present (RFC 9068 §2.2 lists those of an `at+jwt` token). */
function checkRequiredClaims(claims: AccessTokenClaims, required: readonly string[]): void {
  for (const name of required) {
    // Own members only: `constructor` or `toString` must not count as present.
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    if (value === undefined || value === null) {
      reject('claims', 'the token lacks a required claim', { claim: name });
    }
  }
}

function audienceMatches(
  aud: string | readonly string[] | undefined,
  expected: readonly string[],
): boolean {
  if (aud === undefined) return false;
  if (typeof aud === 'string') return expected.includes(aud);
  return aud.some((item) => expected.includes(item));
}

/** The checks that depend on the time or on the call, in the order a full verification makes them. */
function checkTimesAndAudience(
  exp: number,
  nbf: number | undefined,
  iat: number | undefined,
  aud: string | readonly string[] | undefined,
  audience: readonly string[] | undefined,
  now: number,
  tolerance: number,
): void {
  if (now >= exp + tolerance) reject('expired', 'the token has expired');
  if (nbf !== undefined && nbf > now + tolerance) {
    reject('not_yet_valid', 'the token is not valid yet');
  }
  if (iat !== undefined && iat > now + tolerance) {
    reject('not_yet_valid', 'the token was issued in the future');
  }
  if (audience !== undefined && !audienceMatches(aud, audience)) {
    reject('audience', 'the token is not meant for this resource');
  }
}

/**
 * A token verified before: everything that cannot change for the same string (its form,
 * algorithm, `typ`, claim types, issuer, signature) is taken as proven; everything that can
 * (the time, this call's audience, the key set) is checked again. `undefined` when the key set
 * no longer offers the key that verified it: then the token is verified afresh.
 */
async function confirmVerified(
  token: string,
  known: VerifiedToken,
  rules: AccessTokenRules,
  audience: readonly string[] | undefined,
  nowSeconds: () => number,
): Promise<AccessTokenClaims | undefined> {
  const now = nowSeconds();
  if (now >= known.exp + rules.clockToleranceSeconds) rules.verified?.delete(token);
  checkTimesAndAudience(
    known.exp,
    known.nbf,
    known.iat,
    known.aud,
    audience,
    now,
    rules.clockToleranceSeconds,
  );
  const keys = await rules.jwks.keysFor(known.kid, known.alg);
  if (!keys.includes(known.key)) {
    rules.verified?.delete(token);
    return undefined;
  }
  // The first hit parses a private copy of the claims; every hit hands out a copy of that.
  known.claims ??= decodeJsonObject(token, known.payloadStart, known.payloadEnd);
  if (known.claims === undefined) {
    rules.verified?.delete(token);
    return undefined;
  }
  return copyJson(known.claims) as AccessTokenClaims;
}

/**
 * The checks a verified token needs when it is asked about again: the time, and the audience of
 * this call. The rest cannot change for the same token.
 */
export function recheckClaims(
  claims: AccessTokenClaims,
  rules: Pick<AccessTokenRules, 'clockToleranceSeconds'>,
  audience: readonly string[] | undefined,
  nowSeconds: () => number,
): void {
  const { exp, nbf, iat, aud } = claims;
  checkTimesAndAudience(exp, nbf, iat, aud, audience, nowSeconds(), rules.clockToleranceSeconds);
}

/** A deep copy of verified claims, for a caller that may change the copy it is handed. */
export function copyClaims(claims: AccessTokenClaims): AccessTokenClaims {
  return copyJson(claims) as AccessTokenClaims;
}

/** A deep copy of a parsed JSON value, as `JSON.parse` of its text would give, only faster. */
function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(value)) {
    const member = copyJson((value as Record<string, unknown>)[name]);
    // `__proto__` is an own member in parsed JSON; assigning it would set the prototype.
    if (name === '__proto__') {
      Object.defineProperty(copy, name, {
        value: member,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      copy[name] = member;
    }
  }
  return copy;
}

/**
 * Verifies a JWT access token (RFC 9068 §4, RFC 8725 §3), cheapest checks first: the strict
 * parse, algorithm allow-list, `typ`, claim types, `iss`, `exp`, `nbf`, `iat`, `aud`; only then
 * the key lookup and signature. Checking the issuer and times before the key lookup means a
 * token from elsewhere or an expired one never makes the server refetch the key set. Nothing
 * in the header (`jwk`, `jku`, `x5u`, `x5c`, …) is used, except `alg` against the allow-list
 * and `kid` to pick among the issuer's own keys. Scopes are checked apart ({@link checkScopes})
 * so a request whose proof fails is answered 401 before any 403.
 *
 * A token string that verified before (`rules.verified`) skips the parse and the signature, and
 * gets the time, audience and key-set checks again.
 */
export async function verifyAccessToken(
  token: unknown,
  rules: AccessTokenRules,
  audience: readonly string[] | undefined,
  nowSeconds: () => number,
): Promise<AccessTokenClaims> {
  if (token === undefined || token === null || token === '') {
    reject('missing', 'no access token', { error: null });
  }
  if (typeof token !== 'string') reject('malformed', 'the access token is not a string');
  const verified = rules.verified;
  const print = verified === undefined ? 0 : fingerprintOf(token);
  const known = verified?.get(token, print);
  if (known !== undefined) {
    const claims = await confirmVerified(token, known, rules, audience, nowSeconds);
    if (claims !== undefined) return claims;
  }

  const jws = parseCompactJws(token, rules.maxTokenLength, 'token');
  const { header, payload } = jws;

  const { alg, kid, typ } = header;
  if (!rules.algorithms.has(alg as AsymmetricAlgorithm)) {
    reject('algorithm', 'the token is not signed with an accepted algorithm');
  }
  if (
    rules.typ !== false &&
    typ !== rules.typ &&
    (typeof typ !== 'string' || normaliseMediaType(typ) !== rules.typ)
  ) {
    reject('type', 'the token is not a JWT access token (typ)');
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
    reject('malformed', 'the kid header parameter has the wrong type');
  }

  checkClaimTypes(payload);
  const claims = payload;
  if (claims.iss !== rules.issuer) {
    reject('issuer', 'the token was not issued by the expected issuer');
  }
  // Which claim is missing is told in the error's `claim`, never in the challenge.
  checkRequiredClaims(claims, rules.requiredClaims);
  const now = nowSeconds();
  checkTimesAndAudience(
    claims.exp,
    claims.nbf,
    claims.iat,
    claims.aud,
    audience,
    now,
    rules.clockToleranceSeconds,
  );

  const keys = await rules.jwks.keysFor(kid as string | undefined, alg as AsymmetricAlgorithm);
  for (const key of keys) {
    const valid = rules.verifySignature(jws, alg as AsymmetricAlgorithm, key);
    if (valid === true || (valid !== false && (await valid))) {
      if (verified?.admit(print)) {
        verified.set(
          {
            token,
            payloadStart: jws.headerEnd + 1,
            payloadEnd: jws.payloadEnd,
            claims: undefined,
            exp: claims.exp,
            nbf: claims.nbf,
            iat: claims.iat,
            aud: Array.isArray(claims.aud) ? Object.freeze([...claims.aud]) : claims.aud,
            kid: kid as string | undefined,
            alg: alg as AsymmetricAlgorithm,
            key,
            ath: undefined,
          },
          print,
        );
      }
      return claims;
    }
  }
  return reject('signature', 'the token signature is invalid');
}

/**
 * The scopes a token grants: its `scope` claim, space-separated (RFC 9068 §2.2.3). No other
 * claim counts: an `scp` or `roles` claim means what its issuer says, which may not be scopes.
 */
export function grantedScopes(claims: AccessTokenClaims): Set<string> {
  const granted = new Set<string>();
  const { scope } = claims;
  if (typeof scope !== 'string') return granted;
  for (const item of scope.split(' ')) if (item !== '') granted.add(item);
  return granted;
}

/** Every required scope must be granted, else 403 `insufficient_scope` (RFC 6750 §3.1). */
export function checkScopes(
  claims: AccessTokenClaims,
  required: readonly string[] | undefined,
): void {
  if (required === undefined || required.length === 0) return;
  const granted = grantedScopes(claims);
  for (const scope of required) {
    if (!granted.has(scope)) {
      reject('scope', 'the token lacks a required scope', {
        error: 'insufficient_scope',
        scope: required.join(' '),
      });
    }
  }
}
