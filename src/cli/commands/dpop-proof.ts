import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createDpopKey, type DpopKeyPair } from '../../client.js';
import {
  flag,
  json,
  noPositionals,
  parseCommandArgs,
  requiredOption,
  stringOption,
  type Command,
} from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { Inputs, publicPart, secretSourceHelp } from '../inputs.js';

const help = `Usage: s2s-auth dpop-proof --htm <method> --htu <url> [options]

Prints an RFC 9449 DPoP proof JWT for one request: typ dpop+jwt, the public key in the
header, jti, iat, htm, htu (without query and fragment), ath when an access token is
given and nonce when one is.

Options:
  --htm <method>             the request's HTTP method, e.g. POST
  --htu <url>                the request's URL
  --key <file>               the private JWK to sign with (a path, -, env:NAME or file:PATH);
                             default: a fresh Ed25519 key, gone when the command ends
  --access-token <source>    where to read the access token the proof is for (adds ath):
                             a file path, -, env:NAME or file:PATH
  --nonce <nonce>            a server nonce from a DPoP-Nonce header
  --json                     print { proof, header, claims, jkt } instead of the bare proof
  --debug                    print the full error on failure
  -h, --help                 show this help

${secretSourceHelp}

Example:
  s2s-auth dpop-proof --htm GET --htu https://orders.example.com/orders/42 \\
    --key dpop-key.json --access-token env:ACCESS_TOKEN

${exitCodeHelp}`;

/** `s2s-auth dpop-proof`: `createDpopKey` with a key from a file or a fresh one. */
export const dpopProofCommand: Command = {
  name: 'dpop-proof',
  summary: 'print a DPoP proof (RFC 9449) for one request',
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('dpop-proof', args, {
      htm: { type: 'string' },
      htu: { type: 'string' },
      key: { type: 'string' },
      'access-token': { type: 'string' },
      nonce: { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals('dpop-proof', parsed);
    const htm = requiredOption(parsed, 'htm', io);
    const htu = requiredOption(parsed, 'htu', io);
    const inputs = new Inputs(io);
    const keySource = stringOption(parsed, 'key');
    let dpop: true | DpopKeyPair = true;
    if (keySource !== undefined) {
      const privateKey = await inputs.jwk(keySource, 'the DPoP key');
      dpop = { privateKey, publicKey: publicPart(privateKey) };
    }
    const tokenSource = stringOption(parsed, 'access-token');
    const accessToken =
      tokenSource === undefined ? undefined : await inputs.token(tokenSource, 'the access token');
    const nonce = stringOption(parsed, 'nonce');

    const key = createDpopKey(dpop);
    const proof = await key.buildDpopProof({
      htm,
      htu,
      ...(accessToken === undefined ? {} : { accessToken }),
      ...(nonce === undefined ? {} : { nonce }),
    });
    if (!flag(parsed, 'json')) {
      io.out(proof);
      return ExitCode.success;
    }
    const header = decodeProtectedHeader(proof);
    io.out(json({ proof, header, claims: decodeJwt(proof), jkt: await key.thumbprint() }));
    return ExitCode.success;
  },
};
