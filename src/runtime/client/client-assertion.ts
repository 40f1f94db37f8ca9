/**
 * Client assertions made by someone else: a workload's identity token (a Kubernetes projected
 * service-account token, Entra's `AZURE_FEDERATED_TOKEN_FILE`, a CI system's OIDC token) sent as
 * `client_assertion` instead of a secret (RFC 7521 §4.2, RFC 7523 §2.2). The client neither
 * signs nor verifies it: the authorization server does. The client asks its source for one
 * assertion per token request, checks it has the shape of a compact JWS, and reads its `exp`
 * so a token bought with it is not served past it.
 */
import { decodeBase64urlText } from '../crypto/backend.js';
import {
  ClientAssertionError,
  MAX_CLIENT_ASSERTION_LENGTH,
  type ClientAssertionErrorCode,
} from '../errors.js';
import { OptionError, type Clock } from '../shared/options.js';

/**
 * Where the client assertion comes from: the assertion itself, or a function that returns one
 * (or a promise of one). A function is called for every token request and its answer is never
 * kept: the file or token service behind it rotates the assertion. {@link assertionFromFile}
 * and {@link assertionFromUrl} make such functions.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
 */
export type ClientAssertionSource = string | (() => string | PromiseLike<string>);

/**
 * The `client_assertion_type` sent with an external assertion, unless the
 * `clientAssertionType` option says otherwise: a JWT (RFC 7523 §2.2).
 */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** One assertion, ready to send. */
export interface ClientAssertion {
  /** The compact JWS, exactly as the source gave it. */
  readonly value: string;
  /**
   * Its `exp` (epoch seconds), read without verifying anything, when it has a numeric one: a
   * token bought with the assertion is not served after it.
   */
  readonly expiresAt: number | undefined;
}

/** Gets one checked assertion per call. */
export interface ClientAssertionProvider {
  /** The assertion for the next token request, asked of the source afresh. */
  next(): Promise<ClientAssertion>;
}

/** Fails with `code`; `message` never holds any part of the assertion. */
function fail(message: string, code: ClientAssertionErrorCode, cause?: unknown): never {
  throw new ClientAssertionError(message, code, cause === undefined ? {} : { cause });
}

/** The JSON object `text[start, end)` encodes, `undefined` when it is not canonical base64url JSON. */
function decodeObject(
  text: string,
  start: number,
  end: number,
): Record<string, unknown> | undefined {
  const json = decodeBase64urlText(text, start, end);
  if (json === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A JWS part that is base64url and not empty (the signature is only checked for its alphabet). */
const base64urlPart = /^[\w-]+$/;

/** What a JWT's payload says about when it expires, as a whole number of seconds. */
function expiryOf(payload: Record<string, unknown>): number | undefined {
  const { exp } = payload;
  return typeof exp === 'number' && Number.isFinite(exp) ? Math.floor(exp) : undefined;
}

/**
 * Checks that `value` has the shape of a compact JWS (RFC 7515 §7.1) and is not an unsecured
 * JWT, and reads its `exp`. `from` names the source in messages (`the clientAssertion
 * function`, `the file /var/run/…`). Nothing here verifies the assertion: that is the
 * authorization server's job, and the `exp` is used only to stop serving a token early.
 *
 * With `now`, an assertion whose `exp` has passed is refused (`expired`) before it is sent: the
 * server would refuse it anyway, and this error says where it came from.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */
export function readClientAssertion(value: unknown, from: string, now?: Clock): ClientAssertion {
  if (typeof value !== 'string') {
    fail(
      `${from} gave ${value === null ? 'null' : typeof value} as the client assertion; expected a compact JWS string`,
      'invalid',
    );
  }
  if (value.length > MAX_CLIENT_ASSERTION_LENGTH) {
    fail(
      `${from} gave a client assertion of ${value.length} characters; at most ${MAX_CLIENT_ASSERTION_LENGTH} are accepted`,
      'too_large',
    );
  }
  const parts = value.split('.');
  if (parts.length !== 3 || !parts.every((part) => base64urlPart.test(part))) {
    fail(
      `${from} gave a client assertion that is not a compact JWS: expected three non-empty base64url parts separated by dots, found ${
        parts.length === 3 ? 'a part that is empty or not base64url' : `${parts.length} part(s)`
      }`,
      'invalid',
    );
  }
  const headerEnd = parts[0]!.length;
  const payloadEnd = headerEnd + 1 + parts[1]!.length;
  const header = decodeObject(value, 0, headerEnd);
  if (header === undefined) {
    fail(`${from} gave a client assertion whose header is not a base64url JSON object`, 'invalid');
  }
  const { alg } = header;
  if (typeof alg !== 'string' || alg.length === 0 || alg.toLowerCase() === 'none') {
    fail(
      `${from} gave a client assertion ${
        typeof alg === 'string' && alg.length > 0
          ? 'with `alg: none`: an unsecured JWT authenticates nobody (RFC 7523 §3)'
          : 'without a JWS `alg` in its header'
      }`,
      'invalid',
    );
  }
  const payload = decodeObject(value, headerEnd + 1, payloadEnd);
  if (payload === undefined) {
    fail(`${from} gave a client assertion whose payload is not a base64url JSON object`, 'invalid');
  }
  const expiresAt = expiryOf(payload);
  if (now !== undefined && expiresAt !== undefined) {
    const nowSeconds = Math.floor(now().getTime() / 1000);
    if (expiresAt <= nowSeconds) {
      fail(
        `${from} gave a client assertion that expired ${nowSeconds - expiresAt} s ago (its \`exp\` is ${expiresAt}): the source has not been refreshed`,
        'expired',
      );
    }
  }
  return Object.freeze({ value, expiresAt });
}

/**
 * The `exp` of a JWT (epoch seconds), read without verifying anything; `undefined` when
 * `token` is not a JWT with a numeric `exp`. For capping how long something bought with the
 * token is served, never for trusting it.
 */
export function readUnverifiedExpiry(token: string): number | undefined {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.includes('.', second + 1)) return undefined;
  const payload = decodeObject(token, first + 1, second);
  return payload === undefined ? undefined : expiryOf(payload);
}

/**
 * The earlier of two expiry times (epoch seconds), either of which may be unknown: how long a
 * token may be served when it must not outlive the credential it was bought with.
 */
export function earlierExpiry(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** A short description of what a source threw, never its message (it may quote the assertion). */
function describeThrown(error: unknown): string {
  if (error instanceof ClientAssertionError) return error.code;
  if (error instanceof Error) return error.name;
  return typeof error;
}

/**
 * Turns the `clientAssertion` option into a provider of one checked assertion per token
 * request. A string is checked here, when the client is made (a malformed one is an
 * {@link OptionError} naming the option), and its `exp` again on every request; a function is
 * called on every request and its answer checked then. A function that throws a
 * {@link ClientAssertionError} (as {@link assertionFromFile} does) passes it on as it is; any
 * other throw becomes `source_failed`, its error kept as `cause`.
 *
 * @param where the factory, for messages (`createAuthClient`)
 */
export function createClientAssertionProvider(
  source: unknown,
  where: string,
  now: Clock,
): ClientAssertionProvider {
  if (typeof source === 'string') {
    try {
      readClientAssertion(source, `\`clientAssertion\``);
    } catch (error) {
      const problem = error instanceof Error ? error.message : 'is not a compact JWS';
      throw new OptionError(`${where}: ${problem}`, 'ERR_INVALID_OPTION', 'clientAssertion');
    }
    return {
      // An expired assertion is a rejection of next(), as with a function source.
      next: () =>
        Promise.resolve().then(() => readClientAssertion(source, '`clientAssertion`', now)),
    };
  }
  if (typeof source !== 'function') {
    throw new OptionError(
      `${where}: \`clientAssertion\` must be a compact JWS string or a function returning one, got ${
        source === null ? 'null' : typeof source
      }`,
      'ERR_INVALID_OPTION',
      'clientAssertion',
    );
  }
  // The sources of assertion-sources.ts say where they read from: the file, the token service.
  const { description } = source as { description?: unknown };
  const from = typeof description === 'string' ? description : 'the `clientAssertion` function';
  return {
    async next() {
      let value: unknown;
      try {
        value = await (source as () => unknown)();
      } catch (error) {
        if (error instanceof ClientAssertionError) throw error;
        fail(`${from} threw (${describeThrown(error)})`, 'source_failed', error);
      }
      return readClientAssertion(value, from, now);
    },
  };
}

/** An absolute URI (RFC 3986 §4.3) without white space or control characters. */
const absoluteUri = /^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u0020\u007f]+$/;

/**
 * The `clientAssertionType` option: an absolute URI, {@link JWT_BEARER_ASSERTION_TYPE} when
 * left out (RFC 7521 §4.2 lets other assertion types, such as SAML 2.0 bearer, be defined).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
 */
export function resolveClientAssertionType(value: unknown, where: string): string {
  if (value === undefined) return JWT_BEARER_ASSERTION_TYPE;
  if (typeof value !== 'string' || value.length > 512 || !absoluteUri.test(value)) {
    throw new OptionError(
      `${where}: \`clientAssertionType\` must be an absolute URI such as '${JWT_BEARER_ASSERTION_TYPE}' (RFC 7521 §4.2)`,
      'ERR_INVALID_OPTION',
      'clientAssertionType',
    );
  }
  return value;
}

/** The credentials of one token request made with an external assertion. */
export interface ClientAssertionAuthentication {
  headers: Record<string, string>;
  body: Record<string, string>;
  /**
   * The assertion's `exp` (epoch seconds), when readable: the token bought with it must not be
   * served past it.
   */
  notAfter: number | undefined;
}

/**
 * The client authentication of `clientAuth: 'client_assertion'`: for every request, a fresh
 * assertion from the source as `client_assertion`, with `client_assertion_type` and
 * `client_id` (RFC 7521 §4.2, RFC 7523 §2.2), and the assertion's `exp` as `notAfter`.
 * Options are checked when it is made (`clientAssertion`, `clientAssertionType`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
export function createClientAssertionAuthenticator(init: {
  clientId: string;
  clientAssertion: unknown;
  clientAssertionType?: unknown;
  now: Clock;
  where: string;
}): { authenticate(): Promise<ClientAssertionAuthentication> } {
  const { clientId, now, where } = init;
  const provider = createClientAssertionProvider(init.clientAssertion, where, now);
  const assertionType = resolveClientAssertionType(init.clientAssertionType, where);
  return {
    async authenticate() {
      const assertion = await provider.next();
      return {
        headers: {},
        body: {
          client_id: clientId,
          client_assertion_type: assertionType,
          client_assertion: assertion.value,
        },
        notAfter: assertion.expiresAt,
      };
    },
  };
}
