import {
  createAuthClient,
  isTokenTypeUri,
  TokenTypes,
  type ExchangeTokenOptions,
  type TokenType,
} from '../../client.js';
import { clientOptionSpecs, clientOptionsHelp, readClientOptions } from '../client-options.js';
import {
  flag,
  json,
  listOption,
  noPositionals,
  parseCommandArgs,
  stringOption,
  UsageError,
  type Command,
  type ParsedArgs,
} from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { Inputs, secretSourceHelp } from '../inputs.js';

/** The short names `--*-token-type` take, for the RFC 8693 §3 URIs. */
const tokenTypeNames: Readonly<Record<string, TokenType>> = {
  access_token: TokenTypes.accessToken,
  refresh_token: TokenTypes.refreshToken,
  id_token: TokenTypes.idToken,
  jwt: TokenTypes.jwt,
  saml1: TokenTypes.saml1,
  saml2: TokenTypes.saml2,
};

const typeNames = Object.keys(tokenTypeNames).join(', ');

const help = `Usage: s2s-auth exchange --subject-token <source> [options]

Exchanges a token for another (RFC 8693 token exchange): a token for another audience,
resource or scope in place of the one a caller sent, and prints the answer as JSON:
access_token, issued_token_type, token_type, expires_in, expires_at, scope. The client
authenticates as for \`s2s-auth token\`.

Options:
${clientOptionsHelp}
  --subject-token <source>  where to read the token to exchange (required): a file path, -,
                            env:NAME or file:PATH
  --subject-token-type <type>
                            its type (default: access_token)
  --actor-token <source>    where to read the token of the party acting for the subject
                            (delegation)
  --actor-token-type <type> its type (default: access_token); only with --actor-token
  --requested-token-type <type>
                            the type of token wanted (default: the server's choice)
  --audience <name>         a logical name of the target service; repeatable
  --resource <uri>          the target service as an absolute URI (RFC 8707); repeatable
  --scope <scope>           scope to ask for; repeatable, or space-separated
  --raw                     print only the issued token
  --debug                   print the full error with its cause on failure
  -h, --help                show this help

A <type> is one of ${typeNames} (the RFC 8693 token
types) or a full URI such as ${TokenTypes.accessToken}.

${secretSourceHelp}

Example:
  S2S_AUTH_CLIENT_SECRET=… s2s-auth exchange --issuer https://idp.example.com \\
    --client-id billing --subject-token env:CALLER_TOKEN \\
    --resource https://ledger.example.com --scope ledger:read --raw

${exitCodeHelp}`;

/** A `--*-token-type` option: a short name or an absolute URI, never repeated in an error. */
function tokenTypeOption(parsed: ParsedArgs, name: string): TokenType | undefined {
  const value = stringOption(parsed, name);
  if (value === undefined) return undefined;
  if (Object.hasOwn(tokenTypeNames, value)) return tokenTypeNames[value];
  if (isTokenTypeUri(value)) return value;
  throw new UsageError(`--${name} must be one of ${typeNames}, or an absolute URI`);
}

/** `s2s-auth exchange`: RFC 8693 token exchange through `AuthClient.exchangeToken`. */
export const exchangeCommand: Command = {
  name: 'exchange',
  summary: 'exchange a token for one for another audience or scope (RFC 8693)',
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('exchange', args, {
      ...clientOptionSpecs,
      'subject-token': { type: 'string' },
      'subject-token-type': { type: 'string' },
      'actor-token': { type: 'string' },
      'actor-token-type': { type: 'string' },
      'requested-token-type': { type: 'string' },
      audience: { type: 'string', multiple: true },
      resource: { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      raw: { type: 'boolean' },
    });
    noPositionals('exchange', parsed);
    const subjectSource = stringOption(parsed, 'subject-token');
    if (subjectSource === undefined) {
      throw new UsageError(
        '--subject-token is required: name where to read it (a file path, -, env:NAME or file:PATH)',
      );
    }
    const subjectTokenType =
      tokenTypeOption(parsed, 'subject-token-type') ?? TokenTypes.accessToken;
    const actorSource = stringOption(parsed, 'actor-token');
    const actorTokenType = tokenTypeOption(parsed, 'actor-token-type');
    if (actorTokenType !== undefined && actorSource === undefined) {
      throw new UsageError('--actor-token-type applies only with --actor-token');
    }
    const requestedTokenType = tokenTypeOption(parsed, 'requested-token-type');

    const inputs = new Inputs(io);
    const options = await readClientOptions(parsed, io, inputs);
    const exchange: ExchangeTokenOptions = {
      subjectToken: await inputs.token(subjectSource, 'the subject token'),
      subjectTokenType,
    };
    if (actorSource !== undefined) {
      exchange.actorToken = await inputs.token(actorSource, 'the actor token');
      exchange.actorTokenType = actorTokenType ?? TokenTypes.accessToken;
    }
    if (requestedTokenType !== undefined) exchange.requestedTokenType = requestedTokenType;
    const audiences = listOption(parsed, 'audience');
    if (audiences.length > 0) exchange.audience = audiences;
    const resources = listOption(parsed, 'resource');
    if (resources.length > 0) exchange.resource = resources;
    const scopes = listOption(parsed, 'scope');
    if (scopes.length > 0)
      exchange.scope = scopes.flatMap((scope) => scope.split(' ').filter(Boolean));

    const token = await createAuthClient(options).exchangeToken(exchange);
    io.out(flag(parsed, 'raw') ? token.access_token : json(token));
    return ExitCode.success;
  },
};
