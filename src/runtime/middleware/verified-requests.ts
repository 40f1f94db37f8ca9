import type { RequestLike } from '../server/request.js';
import type { ResolvedServiceAuthOptions } from './guard-options.js';

/** What `requireServiceAuth` verified for one incoming request, for guards that come after it. */
export interface VerifiedRequest {
  readonly options: ResolvedServiceAuthOptions;
  /** The request as it was handed to `verifyRequest`, headers object included. */
  readonly request: RequestLike;
}

/** Keyed by the framework's own request object, so an entry lives as long as the request. */
const verified = new WeakMap<object, VerifiedRequest>();

export function rememberVerified(incoming: object, entry: VerifiedRequest): void {
  verified.set(incoming, entry);
}

export function verifiedBefore(incoming: object): VerifiedRequest | undefined {
  return verified.get(incoming);
}
