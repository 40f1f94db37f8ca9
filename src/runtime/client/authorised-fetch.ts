import { challengeParameter } from '../shared/challenge.js';
import type { DpopSigner } from '../dpop/proof.js';
import { setBounded } from '../shared/bounded-map.js';
import type { FetchLike } from '../shared/options.js';
import { scrubCredentials } from '../shared/scrub-error.js';
import type { DpopNonces } from './dpop-nonces.js';
import type { AccessToken, AuthorisedFetchInit, GetTokenOptions } from './types.js';

/** Refused tokens remembered (per origin and token) by the authorised fetch. */
const maxRememberedRefusals = 256;

/** What {@link createAuthorisedFetch} needs from the client that owns it. */
export interface AuthorisedFetchContext {
  getToken: (options: GetTokenOptions) => Promise<AccessToken>;
  signer: DpopSigner | undefined;
  nonces: DpopNonces;
  fetch: FetchLike;
}

/** The client's `fetch`, and a way to forget the tokens servers refused. */
export interface AuthorisedFetch {
  fetch(input: RequestInfo | URL, init?: AuthorisedFetchInit): Promise<Response>;
  /** Forgets every refused token (the cache they came from was cleared). */
  clear(): void;
}

/**
 * `fetch` with the client's token: sets `Authorization` (RFC 6750 §2.1, RFC 9449 §7.1), adds a
 * DPoP proof bound to the token when DPoP is on, retries once on a `use_dpop_nonce` challenge
 * with the new nonce (RFC 9449 §9) and once, with a new token, on a 401 `invalid_token`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export function createAuthorisedFetch(context: AuthorisedFetchContext): AuthorisedFetch {
  // Called as a plain function: a platform fetch (workerd's) refuses any other `this`.
  const { getToken, signer, nonces, fetch: platformFetch } = context;

  /**
   * Tokens a server answered `401 invalid_token` to, by origin and token: the forced refresh
   * that token caused (joined by every later call that presents it), or `'refused'` for a
   * token that was itself the refresh and got refused too, which no further refresh will fix.
   * Forgotten when that origin accepts the token; bounded.
   */
  const refusals = new Map<string, Promise<AccessToken> | 'refused'>();

  function rememberRefusal(key: string, value: Promise<AccessToken> | 'refused'): void {
    setBounded(refusals, key, value, maxRememberedRefusals);
  }

  /**
   * The token to try again with after `token` was refused with `401 invalid_token` by
   * `origin`, or `undefined` when another try cannot help. One forced refresh per refused
   * token, shared by every call that presents it.
   */
  async function replacementFor(
    origin: string,
    token: AccessToken,
    options: GetTokenOptions,
  ): Promise<AccessToken | undefined> {
    const key = `${origin}\n${token.access_token}`;
    let pending = refusals.get(key);
    if (pending === 'refused') return undefined;
    if (pending === undefined) {
      const refresh = getToken({ ...options, forceRefresh: true });
      pending = refresh;
      rememberRefusal(key, refresh);
      // A refresh that failed may be tried again by the next call.
      refresh.catch(() => {
        if (refusals.get(key) === refresh) refusals.delete(key);
      });
    }
    const fresh = await pending;
    if (fresh.access_token !== token.access_token) return fresh;
    // The IdP could not be reached and the cached token came back: nothing new to try.
    refusals.delete(key);
    return undefined;
  }

  /** Sends `request` with `token`: no error that comes out of it holds the token or the proof. */
  async function send(request: Request, token: AccessToken, origin: string): Promise<Response> {
    const credentials: string[] = [token.access_token];
    try {
      request.headers.set('Authorization', `${token.token_type} ${token.access_token}`);
      if (signer && token.token_type === 'DPoP') {
        const nonce = nonces.get(origin);
        const proof = await signer.proof({
          htm: request.method,
          htu: request.url,
          accessToken: token.access_token,
          ...(nonce === undefined ? {} : { nonce }),
        });
        credentials.push(proof);
        request.headers.set('DPoP', proof);
      }
      return await platformFetch(request);
    } catch (error) {
      throw scrubCredentials(error, credentials);
    }
  }

  async function authorisedFetch(
    input: RequestInfo | URL,
    init?: AuthorisedFetchInit,
  ): Promise<Response> {
    const { scope, resource, tokenParameters, ...requestInit } = init ?? {};
    const original = new Request(input, requestInit);
    const { origin } = new URL(original.url);
    const signal = requestInit.signal ?? undefined;
    const tokenOptions: GetTokenOptions = {
      ...(scope === undefined ? {} : { scope }),
      ...(resource === undefined ? {} : { resource }),
      ...(tokenParameters === undefined ? {} : { tokenParameters }),
      ...(signal ? { signal } : {}),
    };
    let token = await getToken(tokenOptions);
    let nonceRetried = false;
    let refreshed = false;
    for (;;) {
      const response = await send(original.clone(), token, origin);
      if (signer) nonces.remember(original.url, response);
      const error =
        response.status === 401
          ? challengeParameter(response.headers.get('www-authenticate'), 'error')
          : undefined;
      if (error !== 'invalid_token') refusals.delete(`${origin}\n${token.access_token}`);
      if (response.status !== 401) return response;
      if (
        error === 'use_dpop_nonce' &&
        signer &&
        !nonceRetried &&
        response.headers.has('dpop-nonce')
      ) {
        nonceRetried = true;
      } else if (error === 'invalid_token' && refreshed) {
        // A token fetched because of the last refusal was refused as well.
        rememberRefusal(`${origin}\n${token.access_token}`, 'refused');
        return response;
      } else if (error === 'invalid_token') {
        refreshed = true;
        const replacement = await replacementFor(origin, token, tokenOptions);
        if (replacement === undefined) return response;
        token = replacement;
      } else {
        return response;
      }
      await response.body?.cancel();
    }
  }

  return { fetch: authorisedFetch, clear: () => refusals.clear() };
}
