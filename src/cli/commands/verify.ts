import { inspect } from 'node:util';
import { createResourceServer, TokenError, type ResourceServerOptions } from '../../server.js';
import {
  flag,
  integerOption,
  json,
  listOption,
  parseCommandArgs,
  requiredOption,
  stringOption,
  UsageError,
  type Command,
} from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { environment, Inputs, secretSourceHelp } from '../inputs.js';

const help = `Usage: s2s-auth verify [source] [options]

Verifies a JWT access token (RFC 9068) against the issuer's JWKS: signature (asymmetric
algorithms only), iss, aud, exp, nbf, typ at+jwt, the required claims and scopes. Prints the claims
as JSON and exits 0 when the token is good; otherwise prints the reason, with what was expected
and what was found (the aud, iss, typ, kid, missing scopes or clock offset), and exits 1 (or 4
when the issuer's keys cannot be fetched).

Arguments:
  source                 where to read the token: a file path, -, env:NAME or file:PATH
                         (default: $${environment.token})

Options:
  --issuer <url>         the expected issuer (default: $${environment.issuer}); its discovery
                         document names the JWKS
  --audience <aud>       the expected audience; repeatable (any one must match). Required,
                         unless --no-audience is given
  --no-audience          do not check aud: accepts a token meant for any service (dangerous;
                         RFC 9068 §4 requires the check)
  --scope <scope>        a scope the token must carry; repeatable, or space-separated
  --required-claim <c>   a claim the token must carry; repeatable. Replaces the default: for a
                         token typed at+jwt the RFC 9068 claims iss, exp, aud, sub, client_id,
                         iat, jti (with --no-typ-check too); for other tokens, iss and exp.
                         iss and exp are always required
  --jwks-uri <url>       fetch keys from here instead of discovery
  --clock-tolerance <s>  seconds of clock skew allowed for exp, nbf and iat (default 30)
  --timeout <ms>         timeout of the discovery and JWKS requests (default 10000)
  --no-typ-check         accept tokens without typ at+jwt (for IdPs that do not follow RFC 9068)
  --token-stdin          read the token from standard input (same as the source -)
  --json                 print { valid, claims } or { valid: false, reason, status, message,
                         detail?, claim? }
  --debug                print the full error with its cause on failure
  -h, --help             show this help

${secretSourceHelp}

Example:
  s2s-auth token --client-id billing --raw | s2s-auth verify - --issuer https://idp.example.com \\
    --audience https://orders.example.com --scope orders:read

${exitCodeHelp}`;

/** `s2s-auth verify`: `createResourceServer(...).verifyToken`. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: "verify a JWT access token against the issuer's JWKS",
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('verify', args, {
      issuer: { type: 'string' },
      audience: { type: 'string', multiple: true },
      'no-audience': { type: 'boolean' },
      'required-claim': { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      'jwks-uri': { type: 'string' },
      'clock-tolerance': { type: 'string' },
      timeout: { type: 'string' },
      'no-typ-check': { type: 'boolean' },
      'token-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const inputs = new Inputs(io);
    const source = await inputs.tokenSource(parsed, 'verify');
    const issuer = requiredOption(parsed, 'issuer', io, environment.issuer);
    const audience = listOption(parsed, 'audience');
    const anyAudience = flag(parsed, 'no-audience');
    if (audience.length > 0 && anyAudience) {
      throw new UsageError('--audience and --no-audience cannot be combined');
    }
    if (audience.length === 0 && !anyAudience) {
      throw new UsageError(
        '--audience is required: the aud this token must name (or --no-audience to skip the check, which RFC 9068 §4 forbids)',
      );
    }
    const options: ResourceServerOptions = {
      issuer,
      audience: anyAudience ? null : audience.length === 1 ? audience[0]! : audience,
    };
    const requiredClaims = listOption(parsed, 'required-claim');
    if (requiredClaims.length > 0) options.requiredClaims = requiredClaims;
    const scopes = listOption(parsed, 'scope').flatMap((scope) => scope.split(' ').filter(Boolean));
    if (scopes.length > 0) options.requiredScopes = scopes;
    const jwksUri = stringOption(parsed, 'jwks-uri');
    if (jwksUri !== undefined) options.jwksUri = jwksUri;
    const tolerance = integerOption(parsed, 'clock-tolerance');
    if (tolerance !== undefined) options.clockToleranceSeconds = tolerance;
    const timeout = integerOption(parsed, 'timeout');
    if (timeout !== undefined) options.timeoutMs = timeout;
    if (flag(parsed, 'no-typ-check')) options.typ = false;
    const server = createResourceServer(options);
    const token = await inputs.token(source);

    try {
      const claims = await server.verifyToken(token);
      io.out(flag(parsed, 'json') ? json({ valid: true, claims }) : json(claims));
      return ExitCode.success;
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      if (flag(parsed, 'json')) {
        io.out(
          json({
            valid: false,
            reason: error.reason,
            status: error.status,
            message: error.message,
            ...(error.detail === undefined ? {} : { detail: error.detail }),
            ...(error.claim === undefined ? {} : { claim: error.claim }),
          }),
        );
      }
      io.err(`s2s-auth verify: ${error.message}`);
      if (flag(parsed, 'debug')) io.err(inspect(error, { depth: 6 }));
      // Keys that cannot be fetched say nothing about the token: an outage, not a rejection.
      return error.reason === 'jwks' ? ExitCode.unavailable : ExitCode.rejected;
    }
  },
};
