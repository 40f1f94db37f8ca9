import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  flag,
  json,
  noPositionals,
  parseCommandArgs,
  requiredOption,
  stringOption,
  UsageError,
  type Command,
} from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { publicPart } from '../inputs.js';

type KeygenAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'RS256' | 'PS256';

const algorithms: readonly KeygenAlgorithm[] = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'];

const help = `Usage: s2s-auth keygen --out <file> [options]

Makes a signing key pair as JWKs: for DPoP proofs (RFC 9449) or for private_key_jwt client
authentication (RFC 7523). The private JWK goes to --out, created with mode 600 (never
overwritten); the public JWK is printed, to register with the authorization server
(private_key_jwt) or to keep (DPoP). The kid is the key's RFC 7638 thumbprint.

Options:
  --out <file>     where to write the private JWK (must not exist)
  --alg <alg>      ES256 (default), ES384, EdDSA, RS256 or PS256; ES256 is the one every IdP
                   accepts for DPoP, and RS256 the one every IdP accepts for private_key_jwt
  --for <use>      dpop or private_key_jwt (default dpop): only labels the help of the output
  --json           print { publicJwk, thumbprint, privateKeyFile } instead of the public JWK
  --debug          print the full error on failure
  -h, --help       show this help

Examples:
  s2s-auth keygen --out dpop-key.json
  s2s-auth keygen --for private_key_jwt --alg RS256 --out billing-key.json > billing-key.pub.json

${exitCodeHelp}`;

/** `s2s-auth keygen`: a fresh key pair, private half to a 600 file, public half printed. */
export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'make a DPoP or private_key_jwt key pair (private JWK to a mode-600 file)',
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('keygen', args, {
      out: { type: 'string' },
      alg: { type: 'string' },
      for: { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals('keygen', parsed);
    const out = requiredOption(parsed, 'out', io);
    const alg = (stringOption(parsed, 'alg') ?? 'ES256') as KeygenAlgorithm;
    if (!algorithms.includes(alg)) {
      throw new UsageError(
        `--alg must be one of ${algorithms.join(', ')}, not ${JSON.stringify(alg).slice(0, 40)}`,
      );
    }
    const use = stringOption(parsed, 'for') ?? 'dpop';
    if (use !== 'dpop' && use !== 'private_key_jwt')
      throw new UsageError('--for must be dpop or private_key_jwt');

    const { privateKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
    });
    const privateJwk: JWK = { ...(await exportJWK(privateKey)), alg, use: 'sig' };
    const thumbprint = await calculateJwkThumbprint(publicPart(privateJwk));
    privateJwk.kid = thumbprint;
    try {
      await io.writePrivateFile(out, `${JSON.stringify(privateJwk, null, 2)}\n`);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new UsageError(
        code === 'EEXIST'
          ? `${out} exists; remove it or choose another --out (keys are never overwritten)`
          : `cannot write ${out}${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
    const publicJwk = publicPart(privateJwk);
    io.out(
      flag(parsed, 'json') ? json({ publicJwk, thumbprint, privateKeyFile: out }) : json(publicJwk),
    );
    io.err(
      `s2s-auth keygen: private ${use === 'dpop' ? 'DPoP' : 'private_key_jwt'} key written to ${out} (mode 600)`,
    );
    return ExitCode.success;
  },
};
