import { encodeBase64url, randomBase64url, signCompact } from '../crypto/backend.js';
import { importSigningKey, type KeyInput, type SigningKey } from '../shared/keys.js';
import { epochSeconds, type Clock } from '../shared/options.js';
import { singleFlight } from '../shared/single-flight.js';
import { basicCredentials, type FormValue } from '../shared/form.js';
import { createClientAssertionAuthenticator } from './client-assertion.js';
import { mtlsClientAuthMethods } from '../transport/mtls.js';

export {
  isMtlsClientAuth,
  mtlsClientAuthMethods,
  type MtlsClientAuthMethod,
} from '../transport/mtls.js';

/**
 * How the client proves its identity to the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2,
 * RFC 8705 §2): a secret, an assertion it signs (`private_key_jwt`), an assertion someone else
 * signed for it, such as a workload identity token (`client_assertion`, RFC 7521 §4.2), or its
 * TLS client certificate.
 */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'client_assertion'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth';

export const clientAuthMethods: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  ...mtlsClientAuthMethods,
  'client_assertion',
];

/** The header and body members that authenticate one request. */
export interface ClientAuthentication {
  headers: Record<string, string>;
  body: Record<string, FormValue>;
  /**
   * When the credential sent expires (epoch seconds), for an external client assertion whose
   * `exp` is readable: a token bought with it is not served past it.
   */
  notAfter?: number | undefined;
}

export interface ClientAuthenticator {
  /**
   * The credentials for one request to `endpoint` (the URL the request goes to): for
   * `private_key_jwt`, the assertion's `aud` is chosen from it and the issuer as configured.
   */
  authenticate(endpoint: string): Promise<ClientAuthentication>;
}

/**
 * The `aud` of a `private_key_jwt` assertion (RFC 7523 §3): `'issuer'` (the default: the
 * authorization server's issuer identifier, or the token endpoint when only `tokenEndpoint`
 * is configured), `'token_endpoint'` (the URL of the endpoint the assertion is sent to), or an
 * absolute URI to send as it is.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */
export type ClientAssertionAudience = 'issuer' | 'token_endpoint' | (string & {});

/**
 * How `client_secret_basic` encodes the client id and secret before base64: `'form'` (the
 * default) form-encodes each as RFC 6749 §2.3.1 requires; `'none'` sends them as they are,
 * UTF-8, as RFC 7617 does, for servers that do not decode (glewlwyd, authentik). The two
 * differ only when the id or secret has characters form encoding changes, such as `+ / = %`
 * or a space.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://www.rfc-editor.org/rfc/rfc7617#section-2
 */
export type ClientSecretBasicEncoding = 'form' | 'none';

const basicEncodings: readonly ClientSecretBasicEncoding[] = ['form', 'none'];

/** Assertions live one minute: long enough for clock skew, short enough to be useless if logged. */
const assertionLifetimeSeconds = 60;

/** A signing key with the protected header of its assertions, encoded once. */
interface AssertionKey {
  signing: SigningKey;
  encodedHeader: string;
}

async function prepareAssertionKey(privateKey: KeyInput): Promise<AssertionKey> {
  const signing = await importSigningKey(privateKey, 'createAuthClient: `privateKey`');
  const { alg, kid } = signing;
  const header = kid === undefined ? { alg, typ: 'JWT' } : { alg, kid, typ: 'JWT' };
  return { signing, encodedHeader: encodeBase64url(JSON.stringify(header)) };
}

const where = 'createAuthClient';

/** An absolute URI (RFC 3986 §4.3): a scheme, a colon and something after it. */
const absoluteUri = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

function resolveAudience(
  value: unknown,
  method: ClientAuthMethod,
  issuer: string | undefined,
): (endpoint: string) => string {
  if (value !== undefined && method !== 'private_key_jwt') {
    throw new TypeError(
      `${where}: \`clientAssertionAudience\` applies to private_key_jwt only, not ${method}`,
    );
  }
  if (value === undefined || value === 'issuer') return (endpoint) => issuer ?? endpoint;
  if (value === 'token_endpoint') return (endpoint) => endpoint;
  if (typeof value === 'string' && absoluteUri.test(value)) return () => value;
  const found = typeof value === 'string' ? `"${value.slice(0, 64)}"` : typeof value;
  throw new TypeError(
    `${where}: \`clientAssertionAudience\` must be 'issuer', 'token_endpoint' or an absolute URI, got ${found}`,
  );
}

function resolveBasicEncoding(value: unknown, method: ClientAuthMethod): ClientSecretBasicEncoding {
  if (value === undefined) return 'form';
  if (method !== 'client_secret_basic') {
    throw new TypeError(
      `${where}: \`clientSecretBasicEncoding\` applies to client_secret_basic only, not ${method}`,
    );
  }
  if (!basicEncodings.includes(value as ClientSecretBasicEncoding)) {
    const found = typeof value === 'string' ? `"${value.slice(0, 32)}"` : typeof value;
    throw new TypeError(
      `${where}: \`clientSecretBasicEncoding\` must be 'form' or 'none', got ${found}`,
    );
  }
  return value as ClientSecretBasicEncoding;
}

/** `Authorization: Basic` over the UTF-8 bytes of `id:secret`, nothing encoded first (RFC 7617 §2). */
function unencodedBasicCredentials(clientId: string, clientSecret: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${clientId}:${clientSecret}`))
    binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

export function createClientAuthenticator(init: {
  method: ClientAuthMethod;
  clientId: string;
  clientSecret?: string | undefined;
  privateKey?: KeyInput | undefined;
  /** The configured issuer, when there is one: the default assertion audience. */
  issuer?: string | undefined;
  assertionAudience?: ClientAssertionAudience | undefined;
  basicEncoding?: ClientSecretBasicEncoding | undefined;
  /** For `client_assertion`: the `clientAssertion` option, checked here. */
  clientAssertion?: unknown;
  /** For `client_assertion`: the `clientAssertionType` option, checked here. */
  clientAssertionType?: unknown;
  now: Clock;
}): ClientAuthenticator {
  const { method, clientId, clientSecret, privateKey, now } = init;
  const audienceFor = resolveAudience(init.assertionAudience, method, init.issuer);
  const basicEncoding = resolveBasicEncoding(init.basicEncoding, method);
  switch (method) {
    case 'client_secret_basic': {
      // RFC 7617 §2: a user-id cannot hold a colon; unencoded, the server would split there.
      if (basicEncoding === 'none' && clientId.includes(':')) {
        throw new TypeError(
          `${where}: \`clientSecretBasicEncoding: 'none'\` cannot send a \`clientId\` that contains ':'`,
        );
      }
      const authorization =
        basicEncoding === 'none'
          ? unencodedBasicCredentials(clientId, clientSecret ?? '')
          : basicCredentials(clientId, clientSecret ?? '');
      return {
        authenticate: () =>
          Promise.resolve({ headers: { Authorization: authorization }, body: {} }),
      };
    }
    case 'client_secret_post':
      return {
        authenticate: () =>
          Promise.resolve({
            headers: {},
            body: { client_id: clientId, client_secret: clientSecret },
          }),
      };
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      // RFC 8705 §2: the certificate on the connection authenticates; the form names the client.
      return {
        authenticate: () => Promise.resolve({ headers: {}, body: { client_id: clientId } }),
      };
    case 'private_key_jwt': {
      let assertionKey: AssertionKey | undefined;
      // Imported once, shared by the requests that wait for it; a failure is tried again.
      const importOnce = singleFlight(
        async () => (assertionKey = await prepareAssertionKey(privateKey!)),
      );
      return {
        async authenticate(endpoint) {
          const { signing, encodedHeader } = assertionKey ?? (await importOnce());
          const iat = epochSeconds(now);
          // RFC 7523 §3: iss and sub are the client, aud the authorization server; jti and exp
          // keep a captured assertion from being replayed for long.
          const claims = {
            iss: clientId,
            sub: clientId,
            aud: audienceFor(endpoint),
            jti: randomBase64url(16),
            iat,
            exp: iat + assertionLifetimeSeconds,
          };
          const assertion = await signCompact(signing.alg, signing.key, encodedHeader, claims);
          return {
            headers: {},
            body: {
              client_id: clientId,
              client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
              client_assertion: assertion,
            },
          };
        },
      };
    }
    case 'client_assertion': {
      // An assertion someone else signed: a fresh one from the source for every request.
      const external = createClientAssertionAuthenticator({
        clientId,
        clientAssertion: init.clientAssertion,
        clientAssertionType: init.clientAssertionType,
        now,
        where,
      });
      return { authenticate: () => external.authenticate() };
    }
  }
}
