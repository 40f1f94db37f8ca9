import { decodeJwt, decodeProtectedHeader } from 'jose';
import { flag, json, parseCommandArgs, type Command } from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { environment, Inputs, secretSourceHelp } from '../inputs.js';
import { humanTime, relativeTo } from '../relative-time.js';

const notVerified =
  'NOT VERIFIED: decoded only. Nothing here proves who issued this token; use `s2s-auth verify`.';

const help = `Usage: s2s-auth decode [source] [options]

Prints the header and claims of a JWT (an access token, a DPoP proof, a client assertion)
with its times in UTC and relative to now. It does NOT verify the token: the signature,
issuer and audience are not checked.

Arguments:
  source          the token itself, or where to read it: a file path, -, env:NAME or file:PATH
                  (default: $${environment.token}). A token given here works, since nothing is
                  verified or sent, but stays in shell history: a warning says so on stderr

Options:
  --token-stdin   read the token from standard input (same as the source -)
  --json          print { verified: false, header, claims, times } as JSON
  --debug         print the full error on failure
  -h, --help      show this help

${secretSourceHelp}

Examples:
  s2s-auth token --client-id billing --raw | s2s-auth decode -
  s2s-auth decode token.txt --json

${exitCodeHelp}`;

interface TimeClaim {
  claim: 'iat' | 'nbf' | 'exp';
  epoch: number;
  utc: string;
  relative: string;
}

function describeTimes(claims: Record<string, unknown>, now: Date): TimeClaim[] {
  const times: TimeClaim[] = [];
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    const epoch = claims[claim];
    if (typeof epoch !== 'number' || !Number.isFinite(epoch)) continue;
    const relative = relativeTo(epoch, now);
    const past = epoch * 1000 <= now.getTime();
    const phrase =
      claim === 'exp'
        ? past
          ? `expired ${relative}`
          : `expires ${relative}`
        : claim === 'iat'
          ? `issued ${relative}`
          : past
            ? `valid since ${relative}`
            : `not valid until ${relative}`;
    times.push({ claim, epoch, utc: humanTime(epoch), relative: phrase });
  }
  return times;
}

/** `s2s-auth decode`: a JWT's header and claims, unverified and labelled so. */
export const decodeCommand: Command = {
  name: 'decode',
  summary: 'print the header and claims of a JWT (NOT verified)',
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('decode', args, {
      'token-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const inputs = new Inputs(io);
    const token = await inputs.token(
      await inputs.tokenSource(parsed, 'decode', { acceptToken: true }),
    );
    const parts = token.split('.');
    if (parts.length === 5) {
      io.err(
        's2s-auth decode: this is an encrypted JWT (JWE); only the holder of the decryption key can read it',
      );
      return ExitCode.rejected;
    }
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      io.err(
        's2s-auth decode: not a JWT (expected three base64url parts with a JSON header and claims)',
      );
      return ExitCode.rejected;
    }
    const times = describeTimes(claims, io.now());
    if (flag(parsed, 'json')) {
      io.out(json({ verified: false, header, claims, times }));
      return ExitCode.success;
    }
    io.out(notVerified);
    io.out('');
    io.out(`Header:\n${json(header)}`);
    io.out('');
    io.out(`Claims:\n${json(claims)}`);
    if (times.length > 0) {
      io.out('');
      for (const time of times) io.out(`${time.claim}  ${time.utc}  (${time.relative})`);
    }
    return ExitCode.success;
  },
};
