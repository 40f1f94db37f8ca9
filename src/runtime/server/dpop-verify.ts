import { scopeTokenSyntax } from '../shared/scope.js';
import { thumbprintInput } from '../crypto/jwk.js';
import { sha256Base64url } from '../crypto/backend.js';
import { keyFitsAlgorithm, type AsymmetricAlgorithm } from '../crypto/algorithms.js';
import { normaliseMediaType, parseCompactJws } from './compact-jws.js';
import type { DpopNonceProvider } from './dpop-nonce.js';
import { normaliseHtu } from './htu.js';
import { reject } from './rejection.js';
import type { ReplayStore } from './replay-store.js';
import {
  hasPrivateMembers,
  importVerificationKey,
  publicJwk,
  verifySignature,
} from './signature.js';

/** Longer than a proof with an RSA-8192 key; a bound on the work an unauthenticated header can cause. */
export const MAX_PROOF_LENGTH = 8192;
/** A `jti` is a random identifier (RFC 9449 §4.2); this bounds what a proof can put in the replay store. */
export const MAX_JTI_LENGTH = 256;

/** How proofs are checked, fixed for a resource server. */
export interface DpopRules {
  algorithms: ReadonlySet<AsymmetricAlgorithm>;
  /** How old a proof's `iat` may be. */
  iatWindowSeconds: number;
  /** How far in the future a proof's `iat` may be. */
  clockToleranceSeconds: number;
  replayStore: ReplayStore;
  nonce: DpopNonceProvider | undefined;
  /** Proof keys that verified a proof before. */
  keys: ProofKeyCache;
}

/** A proof key that verified a proof: its thumbprint and its import, per algorithm. */
interface ProofKey {
  readonly thumbprint: string;
  readonly imported: Map<AsymmetricAlgorithm, CryptoKey>;
}

/**
 * Proof keys by their RFC 7638 thumbprint input, the exact members that make the public key:
 * a client signs every proof with one key, so the hash and the import are done once, not per
 * request. Only keys whose proof passed the thumbprint and signature checks are kept (nobody
 * can fill it with made-up keys), and it is bounded.
 */
export interface ProofKeyCache {
  get(input: string): ProofKey | undefined;
  remember(input: string, thumbprint: string, alg: AsymmetricAlgorithm, key: CryptoKey): void;
}

const MAX_PROOF_KEYS = 1000;

export function createProofKeyCache(maxEntries = MAX_PROOF_KEYS): ProofKeyCache {
  const entries = new Map<string, ProofKey>();
  return {
    get: (input) => entries.get(input),
    remember(input, thumbprint, alg, key) {
      let entry = entries.get(input);
      if (entry === undefined) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
        entry = { thumbprint, imported: new Map() };
        entries.set(input, entry);
      }
      entry.imported.set(alg, key);
    },
  };
}

/** One proof and the request it came with. */
export interface DpopProofInput {
  /** The `DPoP` header value. */
  proof: string;
  /** The request method, as sent. */
  method: string;
  /** The request URL, already normalised with `normaliseHtu`. */
  htu: string;
  /** base64url(SHA-256) of the access token the request presented: the `ath` to expect. */
  tokenHash: () => string | Promise<string>;
  /** The token's `cnf.jkt`. */
  jkt: string;
  nowSeconds: () => number;
}

function invalid(description: string): never {
  reject('dpop', description, { error: 'invalid_dpop_proof' });
}

/** RFC 9449 §9: a proof without the current nonce is answered `use_dpop_nonce` with a fresh one. */
async function checkNonce(provider: DpopNonceProvider, nonce: string | undefined): Promise<void> {
  let valid: boolean;
  let current: string | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- a nonce provider in plain JavaScript can return anything; only `true` passes
    valid = nonce !== undefined && (await provider.isValid(nonce)) === true;
    if (!valid) {
      current = await provider.current();
      // RFC 9449 §8.1: `nonce = 1*NQCHAR`, the syntax of a scope token, so the value can go
      // into a header as it is.
      if (typeof current !== 'string' || !scopeTokenSyntax.test(current)) {
        throw new TypeError('the DPoP nonce provider returned an invalid nonce');
      }
    }
  } catch (cause) {
    reject('dpop', 'the proof nonce could not be checked', { error: 'invalid_dpop_proof', cause });
  }
  if (!valid) {
    reject('dpop_nonce', 'the resource server requires a nonce in the DPoP proof', {
      error: 'use_dpop_nonce',
      ...(current === undefined ? {} : { nonce: current }),
    });
  }
}

/**
 * Verifies a DPoP proof as RFC 9449 §4.3 and §7.1 ask: one well-formed JWS; `typ` `dpop+jwt`;
 * an allowed asymmetric `alg`; a public `jwk` in the header that suits it (a private key there
 * is refused); `htm` and `htu` equal to the request's; `iat` within the window; `ath` the hash
 * of the presented token; the key's RFC 7638 thumbprint equal to the token's `cnf.jkt`; the
 * signature; the server's nonce when one is required; and a `jti` not seen before. Cheap checks
 * run before the signature, and the `jti` is recorded last, only for a proof that passed all
 * else.
 */
export async function verifyDpopProof(input: DpopProofInput, rules: DpopRules): Promise<void> {
  const jws = parseCompactJws(input.proof, MAX_PROOF_LENGTH, 'proof');
  const { header, payload } = jws;

  const { typ, alg, jwk } = header;
  if (typeof typ !== 'string' || normaliseMediaType(typ) !== 'dpop+jwt') {
    invalid('the proof typ is not dpop+jwt');
  }
  if (!rules.algorithms.has(alg as AsymmetricAlgorithm)) {
    invalid('the proof is not signed with an accepted algorithm');
  }
  const algorithm = alg as AsymmetricAlgorithm;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    invalid('the proof header carries no jwk');
  }
  const embedded = jwk as Record<string, unknown>;
  if (hasPrivateMembers(embedded)) invalid('the proof header carries a private key');
  const key = publicJwk(embedded);
  if (key === undefined || !keyFitsAlgorithm(algorithm, key.kty, key.crv)) {
    invalid('the proof jwk is not a public key for its algorithm');
  }

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    invalid('the proof jti is missing or invalid');
  }
  if (typeof htm !== 'string') invalid('the proof htm is missing');
  if (typeof htu !== 'string') invalid('the proof htu is missing');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    invalid('the proof iat is missing or invalid');
  }
  if (typeof ath !== 'string') invalid('the proof ath is missing');
  if (nonce !== undefined && typeof nonce !== 'string') {
    invalid('the proof nonce has the wrong type');
  }

  if (htm !== input.method) invalid('the proof htm does not match the request method');
  if (normaliseHtu(htu) !== input.htu) invalid('the proof htu does not match the request URL');
  const now = input.nowSeconds();
  if (iat < now - rules.iatWindowSeconds) invalid('the proof is too old');
  if (iat > now + rules.clockToleranceSeconds) invalid('the proof was issued in the future');
  if (ath !== (await input.tokenHash())) {
    invalid('the proof ath does not match the access token');
  }
  const memberText = thumbprintInput(key);
  const known = rules.keys.get(memberText);
  const thumbprint = known?.thumbprint ?? (await sha256Base64url(memberText));
  if (thumbprint !== input.jkt) {
    invalid('the proof key is not the key the token is bound to');
  }

  const cryptoKey = known?.imported.get(algorithm) ?? (await importVerificationKey(key, algorithm));
  if (cryptoKey === undefined) invalid('the proof jwk cannot be used');
  const valid = verifySignature(jws, algorithm, cryptoKey);
  if (valid !== true && (valid === false || !(await valid))) {
    invalid('the proof signature is invalid');
  }
  if (known?.imported.get(algorithm) !== cryptoKey) {
    rules.keys.remember(memberText, thumbprint, algorithm, cryptoKey);
  }

  if (rules.nonce !== undefined) await checkNonce(rules.nonce, nonce);

  // The key stays recorded until the proof would be too old anyway, measured from its iat.
  const ttlSeconds = Math.max(1, Math.ceil(iat + rules.iatWindowSeconds - now) + 1);
  let fresh: boolean;
  try {
    fresh = await rules.replayStore.checkAndSet(`${input.jkt}.${jti}`, ttlSeconds);
  } catch (cause) {
    reject('dpop', 'the proof could not be checked for replay', {
      error: 'invalid_dpop_proof',
      cause,
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- a replay store in plain JavaScript can return anything; only `true` passes
  if (fresh !== true) {
    reject('dpop_replay', 'the proof has been used before', { error: 'invalid_dpop_proof' });
  }
}
