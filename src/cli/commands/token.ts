import {
  createAuthClient,
  type AuthClientOptions,
  type ClientAuthMethod,
  type ProfileName,
  type ResourceAs,
} from '../../client.js';
import {
  flag,
  integerOption,
  json,
  listOption,
  noPositionals,
  parseCommandArgs,
  requiredOption,
  stringOption,
  UsageError,
  type Command,
} from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { environment, Inputs, publicPart, secretSourceHelp } from '../inputs.js';

const clientAuthMethods: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];

const help = `Usage: s2s-auth token [options]

Gets an access token with the client credentials grant (RFC 6749 §4.4) and prints the
token response as JSON: access_token, token_type, expires_in, expires_at, scope.

Options:
  --issuer <url>            the authorization server (default: $${environment.issuer});
                            endpoints come from its discovery document
  --profile <name>          the IdP's profile: keycloak, entra, auth0, okta, cognito, google,
                            pingone, duende, zitadel or authentik; it sets the defaults below
  --token-endpoint <url>    use this token endpoint instead of discovery
  --client-id <id>          the client id (default: $${environment.clientId})
  --client-auth <method>    client_secret_basic, client_secret_post or private_key_jwt
                            (default: the profile's, else client_secret_basic)
  --client-secret <source>  where to read the client secret: a file path, -, env:NAME or
                            file:PATH (default: $${environment.clientSecret})
  --private-key <file>      private JWK for private_key_jwt (a path, -, env:NAME or file:PATH;
                            default: the JWK in $${environment.privateKey})
  --scope <scope>           scope to ask for; repeatable, or space-separated
  --resource <uri>          RFC 8707 resource indicator (the token's audience); repeatable
  --resource-as <how>       parameter (RFC 8707 resource) or scope-default (the resource as
                            the scope <resource>/.default, as Entra takes it)
  --audience-parameter <n>  send the resource as the parameter <n> instead (Auth0: audience)
  --token-param <n=value>   an extra token-request parameter; repeatable, a repeated name
                            sends each value
  --token-param-secret <n=source>
                            an extra parameter whose value is a secret (an app password),
                            read from the source: -, env:NAME or file:PATH
  --dpop                    bind the token to a DPoP key (RFC 9449); without --dpop-key a fresh
                            Ed25519 key is made, and it is gone when the command ends
  --dpop-key <file>         the DPoP private JWK (a path, -, env:NAME or file:PATH); implies --dpop
  --dpop-alg <alg>          a DPoP algorithm the server accepts, for when its discovery
                            document lists none; repeatable
  --timeout <ms>            timeout of each request to the authorization server (default 10000)
  --raw                     print only the access token
  --debug                   print the full error with its cause on failure
  -h, --help                show this help

${secretSourceHelp}

Examples:
  S2S_AUTH_CLIENT_SECRET=… s2s-auth token --issuer https://idp.example.com \\
    --client-id billing --scope orders:read --resource https://orders.example.com
  S2S_AUTH_CLIENT_SECRET=… s2s-auth token --profile auth0 --issuer https://acme.eu.auth0.com/ \\
    --client-id billing --scope read:orders --resource https://orders.example.com
  vault read -field=secret kv/billing | s2s-auth token --client-id billing --client-secret - --raw

${exitCodeHelp}`;

/** `name=value` of `--token-param` and `--token-param-secret`: the name, and what follows `=`. */
function nameAndValue(item: string, flagName: string): [string, string] {
  const equals = item.indexOf('=');
  // The value is not repeated: a secret source, or a secret typed where a source belongs.
  if (equals <= 0) throw new UsageError(`--${flagName} takes name=value`);
  return [item.slice(0, equals), item.slice(equals + 1)];
}

/**
 * The extra token-request parameters: plain values from `--token-param`, secret ones read from
 * the source `--token-param-secret` names. A name given more than once sends each value.
 */
async function readTokenParameters(
  parsed: Parameters<typeof listOption>[0],
  inputs: Inputs,
): Promise<Record<string, string[]> | undefined> {
  const parameters: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const add = (name: string, value: string) => {
    (parameters[name] ??= []).push(value);
  };
  for (const item of listOption(parsed, 'token-param')) add(...nameAndValue(item, 'token-param'));
  for (const item of listOption(parsed, 'token-param-secret')) {
    const [name, source] = nameAndValue(item, 'token-param-secret');
    add(
      name,
      await inputs.secret(
        source,
        `the value of token parameter ${JSON.stringify(name).slice(0, 66)}`,
      ),
    );
  }
  return Object.keys(parameters).length === 0 ? undefined : { ...parameters };
}

/** `s2s-auth token`: a client-credentials token through {@link createAuthClient}. */
export const tokenCommand: Command = {
  name: 'token',
  summary: 'get an access token with the client credentials grant',
  help,
  async run(args, io) {
    const parsed = parseCommandArgs('token', args, {
      issuer: { type: 'string' },
      profile: { type: 'string' },
      'token-endpoint': { type: 'string' },
      'client-id': { type: 'string' },
      'client-auth': { type: 'string' },
      'client-secret': { type: 'string' },
      'private-key': { type: 'string' },
      scope: { type: 'string', multiple: true },
      resource: { type: 'string', multiple: true },
      'resource-as': { type: 'string' },
      'audience-parameter': { type: 'string' },
      'token-param': { type: 'string', multiple: true },
      'token-param-secret': { type: 'string', multiple: true },
      dpop: { type: 'boolean' },
      'dpop-key': { type: 'string' },
      'dpop-alg': { type: 'string', multiple: true },
      timeout: { type: 'string' },
      raw: { type: 'boolean' },
    });
    noPositionals('token', parsed);
    const inputs = new Inputs(io);

    const tokenEndpoint = stringOption(parsed, 'token-endpoint');
    const issuer =
      tokenEndpoint === undefined
        ? requiredOption(parsed, 'issuer', io, environment.issuer)
        : (stringOption(parsed, 'issuer') ?? io.env[environment.issuer]);
    const clientId = requiredOption(parsed, 'client-id', io, environment.clientId);
    const clientAuth = stringOption(parsed, 'client-auth') as ClientAuthMethod | undefined;
    if (clientAuth !== undefined && !clientAuthMethods.includes(clientAuth)) {
      throw new UsageError(`--client-auth must be one of ${clientAuthMethods.join(', ')}`);
    }

    const options: AuthClientOptions = { clientId };
    // Unset, the profile chooses (every profile's choice is a secret method), else Basic.
    if (clientAuth !== undefined) options.clientAuth = clientAuth;
    const profile = stringOption(parsed, 'profile');
    if (profile !== undefined) options.profile = profile as ProfileName;
    if (issuer) options.issuer = issuer;
    if (tokenEndpoint) options.tokenEndpoint = tokenEndpoint;
    if (clientAuth === 'private_key_jwt') {
      if (parsed.values['client-secret'] !== undefined)
        throw new UsageError('--client-secret does not apply to private_key_jwt');
      const source =
        stringOption(parsed, 'private-key') ??
        (io.env[environment.privateKey] ? `env:${environment.privateKey}` : undefined);
      if (source === undefined)
        throw new UsageError(`private_key_jwt needs --private-key (or ${environment.privateKey})`);
      options.privateKey = await inputs.jwk(source, 'the private key');
    } else {
      options.clientSecret = await inputs.secret(
        stringOption(parsed, 'client-secret'),
        'the client secret',
        environment.clientSecret,
      );
    }
    const scopes = listOption(parsed, 'scope');
    if (scopes.length > 0)
      options.scope = scopes.flatMap((scope) => scope.split(' ').filter(Boolean));
    const resources = listOption(parsed, 'resource');
    if (resources.length > 0) options.resource = resources;
    const resourceAs = stringOption(parsed, 'resource-as');
    if (resourceAs !== undefined) options.resourceAs = resourceAs as ResourceAs;
    const audienceParameter = stringOption(parsed, 'audience-parameter');
    if (audienceParameter !== undefined) options.audienceParameter = audienceParameter;
    const tokenParameters = await readTokenParameters(parsed, inputs);
    if (tokenParameters !== undefined) options.tokenParameters = tokenParameters;
    const dpopAlgorithms = listOption(parsed, 'dpop-alg');
    if (dpopAlgorithms.length > 0) options.dpopAlgorithms = dpopAlgorithms;
    const timeout = integerOption(parsed, 'timeout');
    if (timeout !== undefined) options.timeoutMs = timeout;

    const dpopKey = stringOption(parsed, 'dpop-key');
    if (dpopKey !== undefined) {
      const privateKey = await inputs.jwk(dpopKey, 'the DPoP key');
      options.dpop = { privateKey, publicKey: publicPart(privateKey) };
    } else if (flag(parsed, 'dpop')) {
      options.dpop = true;
      io.err(
        'note: the token is bound to a fresh DPoP key that ends with this command; pass --dpop-key to keep using it',
      );
    }

    const token = await createAuthClient(options).getToken();
    io.out(flag(parsed, 'raw') ? token.access_token : json(token));
    return ExitCode.success;
  },
};
