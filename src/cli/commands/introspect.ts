import { introspectToken, type IntrospectTokenOptions } from '../../server.js';
import {
  integerOption,
  json,
  parseCommandArgs,
  requiredOption,
  stringOption,
  UsageError,
  type Command,
} from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { environment, Inputs, secretSourceHelp } from '../inputs.js';

const methods = ['client_secret_basic', 'client_secret_post'] as const;

const help = `Usage: s2s-auth introspect [source] [options]

Asks the authorization server whether a token is active (RFC 7662) and prints its answer as
JSON. Exits 0 when the token is active and 1 when it is not (expired, revoked or unknown).
Introspection authenticates the caller: use a resource server's own client credentials.

Arguments:
  source                    where to read the token: a file path, -, env:NAME or file:PATH
                            (default: $${environment.token})

Options:
  --issuer <url>            the authorization server (default: $${environment.issuer})
  --introspection-endpoint <url>
                            use this endpoint instead of discovery
  --client-id <id>          the caller's client id (default: $${environment.clientId})
  --client-secret <source>  where to read the caller's secret: a file path, -, env:NAME or
                            file:PATH (default: $${environment.clientSecret})
  --client-auth <method>    client_secret_basic (default) or client_secret_post
  --token-type-hint <hint>  access_token or refresh_token
  --timeout <ms>            request timeout (default 10000)
  --token-stdin             read the token from standard input (same as the source -)
  --json                    accepted for symmetry: the answer is always JSON
  --debug                   print the full error with its cause on failure
  -h, --help                show this help

${secretSourceHelp}

Example:
  S2S_AUTH_CLIENT_SECRET=… s2s-auth introspect env:ACCESS_TOKEN --issuer https://idp.example.com \\
    --client-id ledger-api

${exitCodeHelp}`;

/** `s2s-auth introspect`: {@link introspectToken}. */
export const introspectCommand: Command = {
  name: 'introspect',
  summary: 'ask the authorization server whether a token is active (RFC 7662)',
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('introspect', args, {
      issuer: { type: 'string' },
      'introspection-endpoint': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-auth': { type: 'string' },
      'token-type-hint': { type: 'string' },
      timeout: { type: 'string' },
      'token-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const inputs = new Inputs(io);
    const source = await inputs.tokenSource(parsed, 'introspect');
    const endpoint = stringOption(parsed, 'introspection-endpoint');
    const issuer =
      endpoint === undefined
        ? requiredOption(parsed, 'issuer', io, environment.issuer)
        : stringOption(parsed, 'issuer');
    const clientAuth = stringOption(parsed, 'client-auth') ?? 'client_secret_basic';
    if (!(methods as readonly string[]).includes(clientAuth)) {
      throw new UsageError(`--client-auth must be one of ${methods.join(', ')}`);
    }
    const clientId = requiredOption(parsed, 'client-id', io, environment.clientId);
    const clientSecret = await inputs.secret(
      stringOption(parsed, 'client-secret'),
      'the client secret',
      environment.clientSecret,
    );
    const token = await inputs.token(source);

    const options: IntrospectTokenOptions = {
      clientId,
      clientSecret,
      clientAuth: clientAuth as (typeof methods)[number],
      token,
    };
    if (issuer !== undefined) options.issuer = issuer;
    if (endpoint !== undefined) options.introspectionEndpoint = endpoint;
    const hint = stringOption(parsed, 'token-type-hint');
    if (hint !== undefined) options.tokenTypeHint = hint;
    const timeout = integerOption(parsed, 'timeout');
    if (timeout !== undefined) options.timeoutMs = timeout;

    const result = await introspectToken(options);
    io.out(json(result));
    return result.active ? ExitCode.success : ExitCode.rejected;
  },
};
