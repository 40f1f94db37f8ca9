import { SignJWT } from 'jose';
import { randomId } from '../shared/base64url.js';
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
      return { authenticate: async () => ({ headers: { Authorization: authorization }, body: {} }) };
    }
    case 'client_secret_post':
      return {
        authenticate: async () => ({
          headers: {},
          body: { client_id: clientId, client_secret: clientSecret },
        }),
      };
    case 'private_key_jwt': {
      let signingKey: Promise<SigningKey> | undefined;
      return {
        async authenticate(audience) {
          signingKey ??= importSigningKey(privateKey as KeyInput, 'createAuthClient: `privateKey`').catch(
            (error: unknown) => {
              signingKey = undefined;
              throw error;
            },
          );
          const { alg, key, kid } = await signingKey;
          const iat = epochSeconds(now);
          const assertion = await new SignJWT({})
            .setProtectedHeader(kid === undefined ? { alg, typ: 'JWT' } : { alg, kid, typ: 'JWT' })
            .setIssuer(clientId)
            .setSubject(clientId)
            .setAudience(audience)
            .setJti(randomId(16))
            .setIssuedAt(iat)
            .setExpirationTime(iat + assertionLifetimeSeconds)
            .sign(key);
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
