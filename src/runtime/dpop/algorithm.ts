import { schemeOf, sameAlgorithm, type AsymmetricAlgorithm } from '../crypto/algorithms.js';
import { OptionError } from '../shared/options.js';

/**
 * What the authorization server accepts in DPoP proofs, and where that was read: its discovery
 * document's `dpop_signing_alg_values_supported` (RFC 9449 §5.1), or the client's
 * `dpopAlgorithms` (from the option or the profile) when discovery lists none.
 */
export interface AcceptedDpopAlgorithms {
  algorithms: readonly string[];
  source: 'dpop_signing_alg_values_supported' | 'dpopAlgorithms';
}

/** Asked once per key, before it is made or first used: `undefined` when nothing is known. */
export type DpopAlgorithmSource = () => Promise<AcceptedDpopAlgorithms | undefined>;

/**
 * The algorithms a generated key may have, in the order they are tried after EdDSA: compact
 * keys and signatures first, RSA last (its keys take longest to make).
 */
const generatable: readonly AsymmetricAlgorithm[] = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256'];

/**
 * The algorithms to try for a generated DPoP key, best first: EdDSA when the server lists it
 * (or lists nothing, or nothing is known), else those of ES256, ES384, ES512, PS256 and RS256 it
 * lists, in that order. Empty when it lists none of them.
 */
export function generatedKeyCandidates(
  accepted: AcceptedDpopAlgorithms | undefined,
): AsymmetricAlgorithm[] {
  const listed = accepted?.algorithms;
  if (listed === undefined || listed.length === 0) return ['EdDSA'];
  const out: AsymmetricAlgorithm[] = [];
  // RFC 9864's fully specified `Ed25519` is the same key and signature as `EdDSA` over Ed25519;
  // the proof names the one the server listed.
  if (listed.includes('EdDSA')) out.push('EdDSA');
  else if (listed.includes('Ed25519')) out.push('Ed25519');
  for (const alg of generatable) if (listed.includes(alg)) out.push(alg);
  return out;
}

/**
 * Where the list was read and what it holds, as a message shows it: algorithm names only (the
 * discovery document is the server's text), a few of them.
 */
function describe(accepted: AcceptedDpopAlgorithms): string {
  const names = accepted.algorithms.filter((alg) => /^[A-Za-z0-9+._-]{1,32}$/.test(alg));
  const shown = names.slice(0, 12).join(', ');
  const more = accepted.algorithms.length - Math.min(names.length, 12);
  const list = `${shown || 'no algorithm name'}${more > 0 ? ` and ${more} more` : ''}`;
  return accepted.source === 'dpopAlgorithms'
    ? `\`dpopAlgorithms\` (the option, or the profile's) lists ${list}`
    : `the authorization server's dpop_signing_alg_values_supported lists ${list}`;
}

const rsaExponent = new Uint8Array([1, 0, 1]);

/** A non-extractable key pair for `alg` (the public half stays exportable, as WebCrypto has it). */
async function generate(alg: AsymmetricAlgorithm): Promise<CryptoKeyPair> {
  const scheme = schemeOf(alg);
  if (scheme === undefined) throw new TypeError(`no key scheme for ${alg}`);
  const params =
    scheme.name === 'Ed25519'
      ? { name: 'Ed25519' }
      : scheme.name === 'ECDSA'
        ? { name: 'ECDSA', namedCurve: scheme.namedCurve as string }
        : {
            name: scheme.name,
            modulusLength: 2048,
            publicExponent: rsaExponent,
            hash: scheme.hash as string,
          };
  return (await crypto.subtle.generateKey(params, false, ['sign', 'verify'])) as CryptoKeyPair;
}

/**
 * Makes the DPoP key of `dpop: true`: of the first candidate algorithm (see
 * {@link generatedKeyCandidates}) this runtime's WebCrypto can generate. A `TypeError` names
 * the server's list when it accepts nothing the client can make, so a key pair must be
 * supplied.
 */
export async function generateDpopKeyPair(
  accepted: AcceptedDpopAlgorithms | undefined,
  where: string,
): Promise<{ alg: AsymmetricAlgorithm; pair: CryptoKeyPair }> {
  const candidates = generatedKeyCandidates(accepted);
  let failure: unknown;
  for (const alg of candidates) {
    try {
      return { alg, pair: await generate(alg) };
    } catch (error) {
      // NotSupportedError: this runtime cannot make such keys (P-521 on some); try the next.
      failure = error;
    }
  }
  if (accepted === undefined || candidates.length > 0) throw failure;
  throw new OptionError(
    `${where}: \`dpop: true\` cannot make a key the authorization server accepts: ${describe(accepted)}, and the client makes EdDSA, ${generatable.join(', ')} keys; supply a key pair of a listed algorithm as \`dpop\``,
    'ERR_INVALID_OPTION',
    'dpop',
  );
}

/**
 * Refuses a supplied DPoP key whose algorithm the server does not list: every proof it signs
 * would be refused (`invalid_dpop_proof`), so the client says which key and which list before
 * it sends one.
 */
export function checkSuppliedAlgorithm(
  alg: AsymmetricAlgorithm,
  accepted: AcceptedDpopAlgorithms | undefined,
  where: string,
): void {
  if (accepted === undefined || accepted.algorithms.length === 0) return;
  if (accepted.algorithms.some((listed) => sameAlgorithm(listed, alg))) return;
  throw new OptionError(
    `${where}: the \`dpop\` key signs with ${alg}, which the authorization server does not accept: ${describe(accepted)}; supply a key of a listed algorithm`,
    'ERR_INVALID_OPTION',
    'dpop',
  );
}
