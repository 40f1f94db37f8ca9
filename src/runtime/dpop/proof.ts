import { schemeOf } from '../crypto/algorithms.js';
import {
  encodeBase64url,
  randomBase64url,
  sha256Base64url,
  signCompact,
} from '../crypto/backend.js';
import { importJwk } from '../crypto/jwk.js';
import {
  algorithmOf,
  importSigningKey,
  isAsymmetricAlgorithm,
  isCryptoKey,
  publicJwkOf,
  thumbprintOf,
  type AsymmetricAlgorithm,
  type KeyInput,
  type PublicJwk,
} from '../shared/keys.js';
import { epochSeconds, optionKeys, rejectUnknownOptions, type Clock } from '../shared/options.js';
import { singleFlight } from '../shared/single-flight.js';
import { parseHttpUrl } from '../shared/url.js';
import {
  checkSuppliedAlgorithm,
  generateDpopKeyPair,
  type DpopAlgorithmSource,
} from './algorithm.js';

/**
 * A DPoP key pair supplied by the caller: WebCrypto keys or JWKs. The algorithm comes from the
 * key (Ed25519 → `EdDSA`, P-256 → `ES256`, …) unless `alg` names it.
 */
export interface DpopKeyPair {
  privateKey: KeyInput;
  publicKey: KeyInput;
  alg?: AsymmetricAlgorithm | undefined;
}

/** Every member of {@link DpopKeyPair}; the compiler keeps the list complete. */
const DPOP_KEY_PAIR_KEYS = optionKeys<DpopKeyPair>()(['privateKey', 'publicKey', 'alg']);

/** What a DPoP proof is for: one request (RFC 9449 §4.2). See {@link AuthClient.buildDpopProof}. */
export interface DpopProofOptions {
  /** The HTTP method of the request, e.g. `POST`. */
  htm: string;
  /** The request URL; query and fragment are dropped. */
  htu: string;
  /** The access token the request carries: adds `ath`. */
  accessToken?: string | undefined;
  /** A nonce the server handed out with `DPoP-Nonce`. */
  nonce?: string | undefined;
}

/** Every option of {@link DpopProofOptions}; the compiler keeps the list complete. */
export const DPOP_PROOF_OPTION_KEYS = optionKeys<DpopProofOptions>()([
  'htm',
  'htu',
  'accessToken',
  'nonce',
]);

/** Signs DPoP proofs with one key. The key is made or imported on first use. */
export interface DpopSigner {
  proof(options: DpopProofOptions): Promise<string>;
  /** RFC 7638 thumbprint of the public key: the `cnf.jkt` a bound token carries. */
  thumbprint(): Promise<string>;
}

interface ReadyKey {
  alg: AsymmetricAlgorithm;
  key: CryptoKey;
  jwk: PublicJwk;
  thumbprint: string;
  /** The protected header, base64url-encoded: the same for every proof by this key. */
  encodedHeader: string;
}

function withHeader(ready: Omit<ReadyKey, 'encodedHeader'>): ReadyKey {
  const header = { typ: 'dpop+jwt', alg: ready.alg, jwk: ready.jwk };
  return { ...ready, encodedHeader: encodeBase64url(JSON.stringify(header)) };
}

const methodToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The `htu` of a proof: the absolute http(s) URL without query and fragment (RFC 9449 §4.2). */
export function proofTargetUri(htu: string): string {
  const url = typeof htu === 'string' ? parseHttpUrl(htu) : undefined;
  if (url === undefined)
    throw new TypeError('buildDpopProof: `htu` must be an absolute http(s) URL');
  url.search = '';
  url.hash = '';
  return url.href;
}

async function prepare(source: true | DpopKeyPair, options: DpopSignerOptions): Promise<ReadyKey> {
  const accepted = await options.acceptedAlgorithms?.();
  // Only createAuthClient says what the server accepts; without a list nothing is refused.
  const where = 'createAuthClient';
  if (source === true) {
    // Non-extractable: the private key exists only inside WebCrypto, for this instance's life.
    const { alg, pair } = await generateDpopKeyPair(accepted, where);
    const jwk = await publicJwkOf(pair.publicKey);
    return withHeader({ alg, key: pair.privateKey, jwk, thumbprint: await thumbprintOf(jwk) });
  }
  const signing = await importSigningKey(source.privateKey, 'dpop.privateKey', source.alg);
  checkSuppliedAlgorithm(signing.alg, accepted, where);
  const jwk = await publicJwkOf(source.publicKey);
  // A proof whose header key is not the signer's fails at every server with a vague error;
  // one test signature here says which option is wrong instead.
  if (!(await signsFor(signing.alg, signing.key, jwk))) {
    throw new TypeError('`dpop.publicKey` is not the public key of `dpop.privateKey`');
  }
  return withHeader({
    alg: signing.alg,
    key: signing.key,
    jwk,
    thumbprint: await thumbprintOf(jwk),
  });
}

/**
 * Whether a signature by `privateKey` verifies with the public key `jwk`. WebCrypto directly,
 * in both builds: both keys are `CryptoKey`s, and this runs once per key pair.
 */
async function signsFor(
  alg: AsymmetricAlgorithm,
  privateKey: CryptoKey,
  jwk: PublicJwk,
): Promise<boolean> {
  const { params } = schemeOf(alg)!;
  const data = new Uint8Array(32);
  try {
    const publicKey = await importJwk(jwk, alg, 'verify');
    return await crypto.subtle.verify(
      params,
      publicKey,
      await crypto.subtle.sign(params, privateKey, data),
      data,
    );
  } catch {
    return false;
  }
}

/** Checks a supplied key pair's shape when the client is created, so mistakes surface early. */
export function validateDpopOption(
  value: unknown,
  where = 'createAuthClient',
  name = 'dpop',
): true | DpopKeyPair | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return true;
  if (typeof value === 'object' && value !== null) {
    rejectUnknownOptions(value, DPOP_KEY_PAIR_KEYS, where, name);
    const { privateKey, publicKey } = value as Partial<DpopKeyPair>;
    const isKey = (key: unknown) =>
      isCryptoKey(key) || (typeof key === 'object' && key !== null && 'kty' in key);
    if (isKey(privateKey) && isKey(publicKey)) {
      if (!algorithmOf(privateKey)) {
        throw new TypeError(`${where}: \`${name}.privateKey\` is not an asymmetric signing key`);
      }
      const { alg } = value as Partial<DpopKeyPair>;
      if (alg !== undefined && !isAsymmetricAlgorithm(alg)) {
        throw new TypeError(
          `${where}: \`${name}.alg\` is not a supported asymmetric JWS algorithm`,
        );
      }
      return value as DpopKeyPair;
    }
  }
  throw new TypeError(`${where}: \`${name}\` must be true, false or { privateKey, publicKey }`);
}

/** What {@link createDpopSigner} takes besides the key and the clock. */
export interface DpopSignerOptions {
  /**
   * What the server accepts, asked once before the key is made or first used: a generated key
   * gets an algorithm from it, a supplied key must have one of it. A failure (discovery could
   * not be read) fails that proof, and the next one asks again.
   */
  acceptedAlgorithms?: DpopAlgorithmSource | undefined;
}

export function createDpopSigner(
  source: true | DpopKeyPair,
  now: Clock,
  options: DpopSignerOptions = {},
): DpopSigner {
  let readyKey: ReadyKey | undefined;
  // Made or imported once, shared by the proofs that wait for it; a failure is tried again.
  const prepareOnce = singleFlight(async () => (readyKey = await prepare(source, options)));
  const key = (): Promise<ReadyKey> =>
    readyKey === undefined ? prepareOnce() : Promise.resolve(readyKey);
  // A client sends many proofs for one URL and one token in a row: the last target and the
  // last token's hash are kept instead of being parsed and hashed again.
  let lastHtu: string | undefined;
  let lastTarget = '';
  let lastToken: string | undefined;
  let lastAth = '';

  return {
    async proof({ htm, htu, accessToken, nonce }) {
      if (typeof htm !== 'string' || !methodToken.test(htm)) {
        throw new TypeError('buildDpopProof: `htm` must be an HTTP method such as "POST"');
      }
      let target = lastTarget;
      if (htu !== lastHtu || typeof htu !== 'string') {
        target = proofTargetUri(htu);
        lastHtu = htu;
        lastTarget = target;
      }
      const { alg, key: privateKey, encodedHeader } = readyKey ?? (await key());
      const payload: Record<string, string | number> = {
        jti: randomBase64url(16),
        htm,
        htu: target,
        iat: epochSeconds(now),
      };
      if (accessToken !== undefined) {
        let ath = lastAth;
        if (accessToken !== lastToken) {
          ath = await sha256Base64url(accessToken);
          lastToken = accessToken;
          lastAth = ath;
        }
        payload.ath = ath;
      }
      if (nonce !== undefined) payload.nonce = nonce;
      return signCompact(alg, privateKey, encodedHeader, payload);
    },
    async thumbprint() {
      return (await key()).thumbprint;
    },
  };
}
