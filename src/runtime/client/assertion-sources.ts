/**
 * Ready-made sources of external client assertions, for `clientAssertion`: a file that
 * something else keeps fresh (a Kubernetes projected service-account token, Entra workload
 * identity's `AZURE_FEDERATED_TOKEN_FILE`), or a token service over HTTP (a CI system's OIDC
 * token endpoint, such as GitHub Actions'). Each is asked again for every token request.
 */
import { ClientAssertionError, MAX_CLIENT_ASSERTION_LENGTH } from '../errors.js';
import {
  OptionError,
  optionalBoolean,
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  resolveFetch,
  type FetchLike,
} from '../shared/options.js';
import { builtinModule } from '../shared/builtin-module.js';
import { requireHttpUrl } from '../shared/url.js';
import { createIdpClient, exchange, type IdpCall } from '../transport/idp-client.js';
import type { Middleware } from 'openapi-fetch';
import { readClientAssertion } from './client-assertion.js';

/**
 * A function source of client assertions made by {@link assertionFromFile} or
 * {@link assertionFromUrl}: call it for an assertion. `description` names where the
 * assertion comes from (the file's path, the URL without its query), for error messages.
 */
export type ClientAssertionFunction = (() => Promise<string>) & {
  readonly description: string;
};

/** The slice of `node:fs/promises` a file source uses. */
export interface FileSystem {
  open(
    path: string,
    flags: 'r',
  ): Promise<{
    stat(): Promise<{ size: number; isFile(): boolean }>;
    readFile(options: { encoding: 'utf8' }): Promise<string>;
    close(): Promise<void>;
  }>;
}

let fileSystem: Promise<FileSystem | undefined> | undefined;

/** `node:fs/promises`, or `undefined` on a runtime without a file system. */
function loadFileSystem(): Promise<FileSystem | undefined> {
  fileSystem ??= Promise.resolve(builtinModule('node:fs/promises') as FileSystem | undefined);
  return fileSystem;
}

/** File system errors that mean "nothing there" rather than "there, but not readable". */
const missing = new Set(['ENOENT', 'ENOTDIR']);

function fileError(error: unknown, from: string): ClientAssertionError {
  const code = (error as { code?: unknown } | null)?.code;
  const errno = typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
  if (errno !== undefined && missing.has(errno)) {
    return new ClientAssertionError(`${from} does not exist (${errno})`, 'file_not_found', {
      cause: error,
    });
  }
  return new ClientAssertionError(
    `${from} cannot be read (${errno ?? 'unknown error'})`,
    'file_unreadable',
    { cause: error },
  );
}

/** ASCII white space around a token in a file (a trailing newline, mostly), not inside it. */
const surroundingSpace = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/**
 * A client assertion source that reads the file at `path` for every token request, so a token
 * the platform rotates in place (the kubelet rewrites a projected token well before it expires)
 * is always read fresh. White space around the token (a trailing newline) is dropped.
 *
 * Fails with a {@link ClientAssertionError}: `file_not_found`, `file_empty`, `file_unreadable`
 * (a directory, no permission), `too_large`, `invalid` (not a compact JWS), or `no_file_system`
 * on a runtime without `node:fs` (a browser, a Cloudflare Worker). Messages name the path,
 * never the file's content.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 * @example
 * ```ts
 * // Entra workload identity on AKS
 * const auth = createAuthClient({
 *   issuer: `https://login.microsoftonline.com/${process.env.AZURE_TENANT_ID}/v2.0`,
 *   clientId: process.env.AZURE_CLIENT_ID!,
 *   clientAuth: 'client_assertion',
 *   clientAssertion: assertionFromFile(process.env.AZURE_FEDERATED_TOKEN_FILE!),
 * });
 * ```
 */
export function assertionFromFile(path: string): ClientAssertionFunction {
  return fileAssertionSource(path, loadFileSystem);
}

/**
 * {@link assertionFromFile} with the file system found by `load`: a test can take it away.
 *
 * @internal
 */
export function fileAssertionSource(
  path: string,
  load: () => Promise<FileSystem | undefined>,
): ClientAssertionFunction {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new OptionError(
      'assertionFromFile: `path` must be a non-empty file path without NUL characters',
      'ERR_INVALID_OPTION',
      'path',
    );
  }
  const from = `the file ${path}`;
  const read = async (): Promise<string> => {
    const fs = await load();
    if (fs === undefined) {
      throw new ClientAssertionError(
        `assertionFromFile: this runtime has no file system (node:fs), so ${from} cannot be read; pass \`clientAssertion\` a function that gets the assertion another way`,
        'no_file_system',
      );
    }
    let text: string;
    try {
      const handle = await fs.open(path, 'r');
      try {
        const info = await handle.stat();
        if (!info.isFile()) {
          throw new ClientAssertionError(
            `${from} cannot be read: it is not a regular file`,
            'file_unreadable',
          );
        }
        // Checked before reading: a path pointed at a large file by mistake is not read whole.
        if (info.size > MAX_CLIENT_ASSERTION_LENGTH * 4) {
          throw new ClientAssertionError(
            `${from} holds ${info.size} bytes; a client assertion has at most ${MAX_CLIENT_ASSERTION_LENGTH} characters`,
            'too_large',
          );
        }
        text = await handle.readFile({ encoding: 'utf8' });
      } finally {
        await handle.close().catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof ClientAssertionError) throw error;
      throw fileError(error, from);
    }
    const token = text.replace(surroundingSpace, '');
    if (token.length === 0) {
      throw new ClientAssertionError(
        `${from} is empty: the token has not been written yet, or the path is wrong`,
        'file_empty',
      );
    }
    return readClientAssertion(token, from).value;
  };
  return Object.assign(read, { description: from });
}

/** Options of {@link assertionFromUrl}. */
export interface AssertionFromUrlOptions {
  /**
   * Request headers, such as the CI system's bearer credential
   * (`{ Authorization: \`bearer ${process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}\` }`). Their
   * values are treated as secrets: scrubbed from anything the service echoes into an error.
   */
  headers?: Readonly<Record<string, string>> | undefined;
  /**
   * The audience to ask the token service for, sent as the `audience` query parameter (GitHub
   * Actions' name for it): the authorization server's expected audience, such as
   * `api://AzureADTokenExchange` for Entra. Default: none, the service's default.
   */
  audience?: string | undefined;
  /** The `fetch` to use. Default: `globalThis.fetch`. */
  fetch?: FetchLike | undefined;
  /** Milliseconds to wait for the answer. Default: `10000`. */
  timeoutMs?: number | undefined;
  /**
   * Accept a plain `http:` URL to a host that is not loopback. Default: `false` (the request
   * carries a credential and the answer is one).
   */
  allowInsecureHttp?: boolean | undefined;
}

const urlOptionKeys = optionKeys<AssertionFromUrlOptions>()([
  'headers',
  'audience',
  'fetch',
  'timeoutMs',
  'allowInsecureHttp',
]);

/** The most bytes of a token service's answer read: an assertion and a little JSON around it. */
const maxAnswerBytes = MAX_CLIENT_ASSERTION_LENGTH * 2;

/**
 * The token in a token service's answer: the `value` (GitHub Actions) or `token` member of a
 * JSON object, or the whole text when it is not JSON. `undefined` for JSON without either.
 */
function tokenInAnswer(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text;
  }
  if (body === null || typeof body !== 'object') return undefined;
  const { value, token } = body as Record<string, unknown>;
  if (typeof value === 'string') return value;
  if (typeof token === 'string') return token;
  return undefined;
}

const where = 'assertionFromUrl';

function validHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new OptionError(
      `${where}: \`headers\` must be an object of header names to strings`,
      'ERR_INVALID_OPTION',
      'headers',
    );
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new OptionError(
        `${where}: \`headers\` values must be strings`,
        'ERR_INVALID_OPTION',
        'headers',
      );
    }
    out[name] = value;
  }
  try {
    new Headers(out);
  } catch {
    throw new OptionError(
      `${where}: \`headers\` holds a name or value that is not a valid HTTP header`,
      'ERR_INVALID_OPTION',
      'headers',
    );
  }
  return out;
}

/**
 * A client assertion source that asks a token service over HTTP for every token request: a
 * `GET` to `url` (with `audience` added as a query parameter) whose answer is JSON with the
 * token in `value` (GitHub Actions) or `token`, or the bare token as text.
 *
 * The request follows the SDK's transport policy: no redirects, at most 32 KiB of answer read,
 * `timeoutMs`, and plain `http:` refused unless the host is loopback or `allowInsecureHttp` is
 * set. Failures: {@link NetworkError} (unreachable, timed out), {@link ProtocolError}
 * (`redirect`, `too_large`), and {@link ClientAssertionError} (`http_status` for a non-2xx
 * answer, `no_assertion` for a 2xx without one, `invalid` or `too_large` for a token that is not
 * a compact JWS). No message holds the headers' values or the token.
 *
 * @see https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
 * @example
 * ```ts
 * // GitHub Actions, federated with Entra
 * clientAssertion: assertionFromUrl(process.env.ACTIONS_ID_TOKEN_REQUEST_URL!, {
 *   headers: { Authorization: `bearer ${process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
 *   audience: 'api://AzureADTokenExchange',
 * }),
 * ```
 */
export function assertionFromUrl(
  url: string,
  options: AssertionFromUrlOptions = {},
): ClientAssertionFunction {
  rejectUnknownOptions(options, urlOptionKeys, where);
  const allowInsecureHttp = optionalBoolean(
    options.allowInsecureHttp,
    'allowInsecureHttp',
    where,
    false,
  );
  requireHttpUrl(url, 'url', where, { allowInsecureHttp });
  const headers = validHeaders(options.headers);
  const { audience } = options;
  if (audience !== undefined && (typeof audience !== 'string' || audience.length === 0)) {
    throw new OptionError(
      `${where}: \`audience\` must be a non-empty string`,
      'ERR_INVALID_OPTION',
      'audience',
    );
  }
  const fetch = resolveFetch(options.fetch, where);
  const timeoutMs = optionalPositiveNumber(options.timeoutMs, 'timeoutMs', where, 10_000);
  const target = new URL(url);
  if (audience !== undefined) target.searchParams.set('audience', audience);
  const shown = `${target.origin}${target.pathname}`;
  const from = `the token service ${shown}`;
  const call: IdpCall = {
    client: createIdpClient(fetch, { maxResponseBytes: maxAnswerBytes }),
    url: target.href,
    endpoint: 'client assertion service',
    timeoutMs,
    secrets: Object.values(headers),
  };

  const read = async (): Promise<string> => {
    // The request is outside the spec's paths: it goes through the same transport middleware
    // the openapi-fetch client runs (redirects refused, body counted, deadline), called here.
    const answer = await exchange(call, async (middleware: Middleware[]) => {
      let request = new Request(call.url, {
        method: 'GET',
        headers: { Accept: 'application/json, text/plain', ...headers },
      });
      const context = { schemaPath: shown, params: {}, id: 'client-assertion', options: {} };
      for (const step of middleware) {
        const next = await step.onRequest?.({ ...context, request } as never);
        if (next instanceof Request) request = next;
      }
      let response = await fetch(request);
      for (const step of middleware) {
        const next = await step.onResponse?.({ ...context, request, response } as never);
        if (next instanceof Response) response = next;
      }
      return { response };
    });
    const { status } = answer.response;
    if (status < 200 || status > 299) {
      throw new ClientAssertionError(
        `${from} answered HTTP ${status}; expected 200 with a token`,
        'http_status',
        { status },
      );
    }
    const token = tokenInAnswer(answer.text)?.replace(surroundingSpace, '') ?? '';
    if (token.length === 0) {
      throw new ClientAssertionError(
        `${from} answered HTTP ${status} without a token (expected JSON with \`value\` or \`token\`, or the token as text)`,
        'no_assertion',
      );
    }
    return readClientAssertion(token, from).value;
  };
  return Object.assign(read, { description: from });
}
