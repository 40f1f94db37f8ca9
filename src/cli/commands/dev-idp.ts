import {
  flag,
  integerOption,
  json,
  noPositionals,
  parseCommandArgs,
  type Command,
} from '../command.js';
import {
  DEV_CLIENT,
  DEV_INTROSPECTOR,
  DEV_SCOPES,
  LEDGER_API,
  MissingPeerError,
  ORDERS_API,
  startDevIdp,
} from '../dev-idp.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { environment } from '../inputs.js';

const help = `Usage: s2s-auth dev-idp [--port <port>] [--print-env]

Runs a local OAuth 2.0 authorization server on 127.0.0.1 for your own development loop:
client credentials, token exchange (RFC 8693) of the tokens it issued, RFC 8707 resource
indicators, JWT access tokens (RFC 9068), opaque tokens with introspection and revocation,
and DPoP. Its client credentials are fixed and
printed: it is for development only, and stops on Ctrl-C.

Options:
  --port <port>   the port on 127.0.0.1 (default: any free port)
  --print-env     print the settings as environment variables (${environment.issuer}, …)
                  instead of JSON, for \`eval\` or an .env file
  --debug         print the full error on failure
  -h, --help      show this help

Clients:     ${DEV_CLIENT.clientId} (gets tokens), ${DEV_INTROSPECTOR.clientId} (introspects)
Resources:   ${ORDERS_API} (JWT tokens), ${LEDGER_API} (opaque tokens)
Scopes:      ${DEV_SCOPES.join(' ')}

Needs oidc-provider, an optional peer: npm install --save-dev oidc-provider

${exitCodeHelp}`;

/** `s2s-auth dev-idp`: the development authorization server, until interrupted. */
export const devIdpCommand: Command = {
  name: 'dev-idp',
  summary: 'run a local authorization server for development (needs oidc-provider)',
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('dev-idp', args, {
      port: { type: 'string' },
      'print-env': { type: 'boolean' },
    });
    noPositionals('dev-idp', parsed);
    const port = integerOption(parsed, 'port') ?? 0;
    // Listen for the stop signal before saying we are up, so an early Ctrl-C is not lost.
    const interrupted = io.untilInterrupted();
    let idp;
    try {
      idp = await startDevIdp({ port });
    } catch (error) {
      if (error instanceof MissingPeerError) {
        io.err(`s2s-auth dev-idp: ${error.message}`);
        return ExitCode.usage;
      }
      throw error;
    }
    const settings = {
      issuer: idp.issuer,
      clientId: DEV_CLIENT.clientId,
      clientSecret: DEV_CLIENT.clientSecret,
      introspection: {
        clientId: DEV_INTROSPECTOR.clientId,
        clientSecret: DEV_INTROSPECTOR.clientSecret,
      },
      resources: { jwt: ORDERS_API, opaque: LEDGER_API },
      scopes: [...DEV_SCOPES],
    };
    if (flag(parsed, 'print-env')) {
      io.out(`${environment.issuer}=${idp.issuer}`);
      io.out(`${environment.clientId}=${DEV_CLIENT.clientId}`);
      io.out(`${environment.clientSecret}=${DEV_CLIENT.clientSecret}`);
    } else {
      io.out(json(settings));
    }
    io.err(`s2s-auth dev-idp: listening on ${idp.issuer} (development only; Ctrl-C stops it)`);
    await interrupted;
    await idp.close();
    return ExitCode.success;
  },
};
