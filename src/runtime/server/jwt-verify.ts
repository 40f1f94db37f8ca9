import type { AsymmetricAlgorithm } from '../crypto/algorithms.js';
import { CERTIFICATE_THUMBPRINT_MEMBER, SHA256_THUMBPRINT } from './certificate-binding.js';
import { decodeJsonObject, parseCompactJws } from './compact-jws.js';
import { checkIssuer, keyMaySign, type IssuerPolicy } from './issuer-policy.js';
import type { JwksCache } from './jwks-cache.js';
import { reject } from './rejection.js';
import { verifySignature } from './signature.js';
import { checkMarkers, checkTyp, shown, type TokenPolicy } from './token-policy.js';
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
  /** The issuer: one of the configured issuers (a template filled from the token's tenant). */
  iss: string;
  /** Expiry, in seconds since the epoch. Always present. */
  exp: number;
  /** The audience(s) the token is for. */
  aud?: string | string[];
  /** The subject: the client itself for a client-credentials token. */
  sub?: string;
  /** The OAuth client the token was issued to (RFC 9068 §2.2, RFC 8693 §4.3). */
  client_id?: string;
  /**
   * Granted scopes, space-separated (RFC 9068 §2.2.3, RFC 8693 §4.2); a JSON array of them
   * from issuers that write one (Duende IdentityServer's default).
   */
  scope?: string | string[];
  /** Issued-at, in seconds since the epoch. */
  iat?: number;
  /** Not-before, in seconds since the epoch. */
  nbf?: number;
  /** The token's unique identifier. */
  jti?: string;
  /**
   * Confirmation (RFC 7800 §3.1); `jkt` binds the token to a DPoP key (RFC 9449 §6.1),
   * `x5t#S256` to a client certificate (RFC 8705 §3.1).
   */
  cnf?: { jkt?: string; 'x5t#S256'?: string; [member: string]: unknown };
  [claim: string]: unknown;
}

/** What an access token is checked against, fixed for a resource server. */
export interface AccessTokenRules {
  /** Which `iss` values are accepted, and which keys may sign for them. */
  issuers: IssuerPolicy;
  algorithms: ReadonlySet<AsymmetricAlgorithm>;
  /** `typ`, the access-token markers and where scopes live. */
  policy: TokenPolicy;
  clockToleranceSeconds: number;
  maxTokenLength: number;
  jwks: JwksCache;
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
  expected: string,
): void {
  const value = claims[name];
  if (value !== undefined && !test(value)) {
    reject('claims', `the ${name} claim has the wrong type`, {
      claim: name,
      detail: `${name} is ${shown(value)}; expected ${expected} (RFC 7519 §4.1)`,
    });
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
  const { jkt, [CERTIFICATE_THUMBPRINT_MEMBER]: x5t } = value as Record<string, unknown>;
  return (
    (jkt === undefined || (typeof jkt === 'string' && jkt.length > 0)) &&
    (x5t === undefined || (typeof x5t === 'string' && SHA256_THUMBPRINT.test(x5t)))
  );
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
  optional(claims, 'nbf', isFiniteNumber, 'a number');
  optional(claims, 'iat', isFiniteNumber, 'a number');
  optional(claims, 'aud', isStringOrStringArray, 'a string or an array of strings');
  optional(claims, 'sub', isString, 'a string');
  optional(claims, 'client_id', isString, 'a string');
  optional(claims, 'jti', isString, 'a string');
  optional(claims, 'scope', isStringOrStringArray, 'a string or an array of strings');
  optional(
    claims,
    'cnf',
    isConfirmation,
    'an object whose jkt is a non-empty string and whose x5t#S256 is a base64url SHA-256 thumbprint',
  );
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
  if (now >= exp + tolerance) {
    reject('expired', 'the token has expired', {
      detail: `exp is ${seconds(now - exp)} s before this server's clock; ${leeway(tolerance)}`,
    });
  }
  if (nbf !== undefined && nbf > now + tolerance) {
    reject('not_yet_valid', 'the token is not valid yet', {
      detail: `nbf is ${seconds(nbf - now)} s after this server's clock; ${leeway(tolerance)}`,
    });
  }
  if (iat !== undefined && iat > now + tolerance) {
    reject('not_yet_valid', 'the token was issued in the future', {
      detail: `iat is ${seconds(iat - now)} s after this server's clock; ${leeway(tolerance)}`,
    });
  }
  if (audience !== undefined && !audienceMatches(aud, audience)) {
    reject('audience', 'the token is not meant for this resource', {
      detail: `aud is ${aud === undefined ? 'absent' : shown(aud)}; expected ${audience.map((item) => JSON.stringify(item)).join(' or ')} (the \`audience\` option)`,
    });
  }
}

/** The tolerance part of a time refusal's detail: built only for a refusal, not per token. */
function leeway(tolerance: number): string {
  return `the clock tolerance is ${tolerance} s (the \`clockToleranceSeconds\` option)`;
}

/** A time difference for a message: whole seconds, at most a few digits of noise. */
function seconds(difference: number): string {
  return difference >= 1e9 ? difference.toExponential(2) : String(Math.round(difference));
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
  if (!keys.some((candidate) => candidate.key === known.key)) {
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
 * parse, algorithm allow-list, `typ`, claim types, `iss`, `exp`, `nbf`, `iat`, `aud`, the
 * access-token markers (required, valued and absent claims, the client allow-list); only then
 * the key lookup (and, with `keyIssuer`, the key's own `issuer`) and the signature. Checking
 * the issuer and times before the key lookup means a token from elsewhere or an expired one
 * never makes the server refetch the key set. Nothing in the header (`jwk`, `jku`, `x5u`,
 * `x5c`, …) is used, except `alg` against the allow-list and `kid` to pick among the issuer's
 * own keys. Scopes are checked apart (`checkScopes`, token-policy.ts) so a request whose proof
 * fails is answered 401 before any 403.
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
  checkTyp(typ, rules.policy);
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
    reject('malformed', 'the kid header parameter has the wrong type');
  }

  checkClaimTypes(payload);
  const claims = payload;
  checkIssuer(claims, rules.issuers);
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
  // What is wrong is told in the error's `claim` and message, never in the challenge.
  checkMarkers(claims, typ, rules.policy);

  const found = await rules.jwks.keysFor(kid, alg as AsymmetricAlgorithm);
  const keys = found.filter((candidate) => keyMaySign(candidate.issuer, claims, rules.issuers));
  if (keys.length === 0) {
    const [first] = found;
    const which = first?.kid === undefined ? 'without kid' : `kid ${shown(first.kid)}`;
    reject('issuer', 'the token was not issued by the expected issuer', {
      detail: `the key ${which} is published for issuer ${shown(first?.issuer)}, not one accepted for a token with iss ${shown(claims.iss)} (the key's own issuer member, checked with \`keyIssuer\`)`,
    });
  }
  for (const { key } of keys) {
    const valid = verifySignature(jws, alg as AsymmetricAlgorithm, key);
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
            kid: kid,
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
  return reject('signature', 'the token signature is invalid', {
    detail: `kid ${kid === undefined ? 'absent' : `${shown(kid)} is in the key set`}; the signature does not verify with ${keys.length === 1 ? 'its key' : `any of ${keys.length} keys`} (${alg as string})`,
  });
}
