import { createAuthClient, type ResourceAs } from '../../client.js';
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
} from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { Inputs, secretSourceHelp } from '../inputs.js';

const help = `Usage: s2s-auth token [options]

Gets an access token with the client credentials grant (RFC 6749 §4.4) and prints the
token response as JSON: access_token, token_type, expires_in, expires_at, scope.

Options:
${clientOptionsHelp}
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
  s2s-auth token --client-id system:serviceaccount:orders:worker \
    --client-assertion /var/run/secrets/tokens/idp-token --scope orders:read
  s2s-auth token --client-id billing --cert client.pem --key client.key --scope orders:read

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
      ...clientOptionSpecs,
      scope: { type: 'string', multiple: true },
      resource: { type: 'string', multiple: true },
      'resource-as': { type: 'string' },
      'audience-parameter': { type: 'string' },
      'token-param': { type: 'string', multiple: true },
      'token-param-secret': { type: 'string', multiple: true },
      raw: { type: 'boolean' },
    });
    noPositionals('token', parsed);
    const inputs = new Inputs(io);
    const options = await readClientOptions(parsed, io, inputs);

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

    const token = await createAuthClient(options).getToken();
    io.out(flag(parsed, 'raw') ? token.access_token : json(token));
    return ExitCode.success;
  },
};
