/**
 * The options every command that asks the token endpoint shares (`token`, `exchange`): where
 * the authorization server is, who the client is and how it authenticates, DPoP and the
 * timeout. One parser and one help text, so the commands cannot drift apart.
 */
import {
  assertionFromFile,
  ClientAssertionError,
  type AuthClientOptions,
  type ClientAssertionFunction,
  type ClientAuthMethod,
  type ProfileName,
} from '../client.js';
import {
  flag,
  integerOption,
  listOption,
  requiredOption,
  stringOption,
  UsageError,
  type OptionSpec,
  type ParsedArgs,
} from './command.js';
import type { Io } from './io.js';
import { environment, type Inputs, publicPart } from './inputs.js';

const clientAuthMethods: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'client_assertion',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];

const tlsMethods: readonly ClientAuthMethod[] = ['tls_client_auth', 'self_signed_tls_client_auth'];

/** The `parseArgs` specs of the shared options. */
export const clientOptionSpecs: Readonly<Record<string, OptionSpec>> = {
  issuer: { type: 'string' },
  profile: { type: 'string' },
  'token-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-auth': { type: 'string' },
  'client-secret': { type: 'string' },
  'private-key': { type: 'string' },
  'client-assertion': { type: 'string' },
  'client-assertion-type': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  dpop: { type: 'boolean' },
  'dpop-key': { type: 'string' },
  'dpop-alg': { type: 'string', multiple: true },
  timeout: { type: 'string' },
};

/** The help lines of the shared options, for the `Options:` section of each command. */
export const clientOptionsHelp = `  --issuer <url>            the authorization server (default: $${environment.issuer});
                            endpoints come from its discovery document
  --profile <name>          the IdP's profile: keycloak, entra, auth0, okta, cognito, google,
                            pingone, duende, zitadel or authentik; it sets the defaults below
  --token-endpoint <url>    use this token endpoint instead of discovery
  --client-id <id>          the client id (default: $${environment.clientId})
  --client-auth <method>    client_secret_basic, client_secret_post, private_key_jwt,
                            client_assertion, tls_client_auth or self_signed_tls_client_auth
                            (default: the one the credential options below imply, else the
                            profile's, else client_secret_basic)
  --client-secret <source>  where to read the client secret: a file path, -, env:NAME or
                            file:PATH (default: $${environment.clientSecret})
  --private-key <file>      private JWK for private_key_jwt (a path, -, env:NAME or file:PATH;
                            default: the JWK in $${environment.privateKey})
  --client-assertion <source>
                            where to read a client assertion signed by someone else (a
                            workload identity token: Kubernetes, Entra, CI), sent instead of a
                            secret (RFC 7523 §2.2; implies client_assertion). A file is read
                            again for each token request, as the platform rotates it
  --client-assertion-type <uri>
                            its client_assertion_type (default:
                            urn:ietf:params:oauth:client-assertion-type:jwt-bearer)
  --cert <file>             client certificate, PEM, for mutual TLS (RFC 8705; implies
                            tls_client_auth; --client-auth self_signed_tls_client_auth for a
                            self-signed one); needs --key
  --key <source>            the certificate's private key, PEM (a path, -, env:NAME or
                            file:PATH); needs --cert
  --ca <file>               CA certificates, PEM, to trust for the server instead of the
                            default set; with --cert and --key
  --dpop                    bind the token to a DPoP key (RFC 9449); without --dpop-key a fresh
                            Ed25519 key is made, and it is gone when the command ends
  --dpop-key <file>         the DPoP private JWK (a path, -, env:NAME or file:PATH); implies --dpop
  --dpop-alg <alg>          a DPoP algorithm the server accepts, for when its discovery
                            document lists none; repeatable
  --timeout <ms>            timeout of each request to the authorization server (default 10000)`;

function given(parsed: ParsedArgs, name: string): boolean {
  return parsed.values[name] !== undefined;
}

/**
 * The client authentication method the command line asks for: `--client-auth`, or the one its
 * credential options imply (`--client-assertion`, `--cert` and `--key`), checked against them.
 * `undefined` leaves the choice to the profile, else Basic.
 */
function clientAuthMethod(parsed: ParsedArgs): ClientAuthMethod | undefined {
  const named = stringOption(parsed, 'client-auth');
  if (named !== undefined && !(clientAuthMethods as readonly string[]).includes(named)) {
    throw new UsageError(`--client-auth must be one of ${clientAuthMethods.join(', ')}`);
  }
  let method = named as ClientAuthMethod | undefined;
  const secretOptions = given(parsed, 'client-secret') || given(parsed, 'private-key');
  const certificate = given(parsed, 'cert') || given(parsed, 'key');

  if (given(parsed, 'client-assertion')) {
    if (secretOptions) {
      throw new UsageError(
        '--client-assertion cannot be combined with --client-secret or --private-key: the assertion is the credential',
      );
    }
    if (certificate) {
      throw new UsageError('--client-assertion cannot be combined with --cert and --key');
    }
    if (method !== undefined && method !== 'client_assertion') {
      throw new UsageError(`--client-assertion authenticates with client_assertion, not ${method}`);
    }
    method = 'client_assertion';
  } else if (method === 'client_assertion') {
    throw new UsageError('client_assertion needs --client-assertion');
  }
  if (given(parsed, 'client-assertion-type') && method !== 'client_assertion') {
    throw new UsageError('--client-assertion-type applies only with --client-assertion');
  }

  if (certificate) {
    if (!given(parsed, 'cert') || !given(parsed, 'key')) {
      throw new UsageError('--cert and --key go together: give both, or neither');
    }
    if (secretOptions) {
      throw new UsageError(
        '--cert and --key cannot be combined with --client-secret or --private-key: the certificate is the credential',
      );
    }
    if (method !== undefined && !tlsMethods.includes(method)) {
      throw new UsageError(
        `--cert and --key authenticate with tls_client_auth or self_signed_tls_client_auth, not ${method}`,
      );
    }
    method ??= 'tls_client_auth';
  } else if (method !== undefined && tlsMethods.includes(method)) {
    throw new UsageError(`${method} needs --cert and --key`);
  }
  if (given(parsed, 'ca') && !certificate) {
    throw new UsageError('--ca applies only with --cert and --key');
  }
  return method;
}

/**
 * A client assertion read from `path` for every token request, as `assertionFromFile` reads it
 * (white space around it dropped, size capped, shape checked), with messages that say which
 * option named the file instead of repeating its path: what was typed there may be a secret.
 */
function assertionFile(path: string): ClientAssertionFunction {
  const read = assertionFromFile(path);
  const description = 'the file named by --client-assertion';
  const source = async (): Promise<string> => {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ClientAssertionError)) throw error;
      // Without its cause: a file system error's message holds the path too.
      throw new ClientAssertionError(
        error.message.split(read.description).join(description),
        error.code,
      );
    }
  };
  return Object.assign(source, { description });
}

/**
 * The options of `createAuthClient` the shared command-line options describe, credentials read
 * from their sources. Every usage error is raised before anything is sent.
 */
export async function readClientOptions(
  parsed: ParsedArgs,
  io: Io,
  inputs: Inputs,
): Promise<AuthClientOptions> {
  const tokenEndpoint = stringOption(parsed, 'token-endpoint');
  const issuer =
    tokenEndpoint === undefined
      ? requiredOption(parsed, 'issuer', io, environment.issuer)
      : (stringOption(parsed, 'issuer') ?? io.env[environment.issuer]);
  const clientId = requiredOption(parsed, 'client-id', io, environment.clientId);
  const clientAuth = clientAuthMethod(parsed);

  const options: AuthClientOptions = { clientId };
  // Unset, the profile chooses (every profile's choice is a secret method), else Basic.
  if (clientAuth !== undefined) options.clientAuth = clientAuth;
  const profile = stringOption(parsed, 'profile');
  if (profile !== undefined) options.profile = profile as ProfileName;
  if (issuer) options.issuer = issuer;
  if (tokenEndpoint) options.tokenEndpoint = tokenEndpoint;

  if (clientAuth === 'private_key_jwt') {
    if (given(parsed, 'client-secret'))
      throw new UsageError('--client-secret does not apply to private_key_jwt');
    const source =
      stringOption(parsed, 'private-key') ??
      (io.env[environment.privateKey] ? `env:${environment.privateKey}` : undefined);
    if (source === undefined)
      throw new UsageError(`private_key_jwt needs --private-key (or ${environment.privateKey})`);
    options.privateKey = await inputs.jwk(source, 'the private key');
  } else if (clientAuth === 'client_assertion') {
    const { value, path } = await inputs.secretAndFile(
      stringOption(parsed, 'client-assertion'),
      'the client assertion',
    );
    // Read once here, so a missing file is a usage error before anything is sent.
    options.clientAssertion = path === undefined ? value.trim() : assertionFile(path);
    const assertionType = stringOption(parsed, 'client-assertion-type');
    if (assertionType !== undefined) options.clientAssertionType = assertionType;
  } else if (clientAuth !== undefined && tlsMethods.includes(clientAuth)) {
    const tls: NonNullable<AuthClientOptions['tls']> = {
      cert: await inputs.secret(stringOption(parsed, 'cert'), 'the client certificate'),
      key: await inputs.secret(stringOption(parsed, 'key'), 'the client certificate key'),
    };
    const ca = stringOption(parsed, 'ca');
    if (ca !== undefined) tls.ca = await inputs.secret(ca, 'the CA certificates');
    options.tls = tls;
  } else {
    options.clientSecret = await inputs.secret(
      stringOption(parsed, 'client-secret'),
      'the client secret',
      environment.clientSecret,
    );
  }

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
  return options;
}
