import { signCompact } from '../crypto/backend.js';
import { base64url, randomId } from '../shared/base64url.js';
import { importSigningKey, type KeyInput, type SigningKey } from '../shared/keys.js';
import { epochSeconds, type Clock } from '../shared/options.js';
import { basicCredentials, type FormValue } from '../transport/form.js';

/** How the client proves its identity to the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export const clientAuthMethods: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];

/** The header and body members that authenticate one request. */
export interface ClientAuthentication {
  headers: Record<string, string>;
  body: Record<string, FormValue>;
}

export interface ClientAuthenticator {
  /** `audience` is the assertion's `aud` for `private_key_jwt`: the issuer, or the endpoint URL. */
  authenticate(audience: string): Promise<ClientAuthentication>;
}

/** Assertions live one minute: long enough for clock skew, short enough to be useless if logged. */
const assertionLifetimeSeconds = 60;

/** A signing key with the protected header of its assertions, encoded once. */
interface AssertionKey {
  signing: SigningKey;
  header: Readonly<Record<string, unknown>>;
  encodedHeader: string;
}

async function prepareAssertionKey(privateKey: KeyInput): Promise<AssertionKey> {
  const signing = await importSigningKey(privateKey, 'createAuthClient: `privateKey`');
  const { alg, kid } = signing;
  const header = kid === undefined ? { alg, typ: 'JWT' } : { alg, kid, typ: 'JWT' };
  return { signing, header, encodedHeader: base64url(JSON.stringify(header)) };
}

export function createClientAuthenticator(init: {
  method: ClientAuthMethod;
  clientId: string;
  clientSecret?: string | undefined;
  privateKey?: KeyInput | undefined;
  now: Clock;
}): ClientAuthenticator {
  const { method, clientId, clientSecret, privateKey, now } = init;
  switch (method) {
    case 'client_secret_basic': {
      const authorization = basicCredentials(clientId, clientSecret ?? '');
      return {
        authenticate: async () => ({ headers: { Authorization: authorization }, body: {} }),
      };
    }
    case 'client_secret_post':
      return {
        authenticate: async () => ({
          headers: {},
          body: { client_id: clientId, client_secret: clientSecret },
        }),
      };
    case 'private_key_jwt': {
      let assertionKey: Promise<AssertionKey> | undefined;
      return {
        async authenticate(audience) {
          assertionKey ??= prepareAssertionKey(privateKey as KeyInput).catch((error: unknown) => {
            assertionKey = undefined;
            throw error;
          });
          const { signing, header, encodedHeader } = await assertionKey;
          const iat = epochSeconds(now);
          // RFC 7523 §3: iss and sub are the client, aud the authorization server; jti and exp
          // keep a captured assertion from being replayed for long.
          const claims = {
            iss: clientId,
            sub: clientId,
            aud: audience,
            jti: randomId(16),
            iat,
            exp: iat + assertionLifetimeSeconds,
          };
          const assertion = await signCompact(
            signing.alg,
            signing.key,
            header,
            encodedHeader,
            claims,
          );
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
  }
}
