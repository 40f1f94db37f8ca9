/**
 * Subject and actor tokens for the token exchange unit tests: unsigned JWTs whose `exp` the SDK
 * reads (it never verifies them), on the manual clock's start time.
 */
import { manualClock } from '../runtime/fake-fetch.js';

/** The manual clock's start, in epoch seconds: the tokens' `exp` count from it. */
export const nowSeconds = Math.floor(manualClock().now().getTime() / 1000);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT with `claims` and a signature nobody checks. */
export const jwt = (claims: Record<string, unknown>) =>
  `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${b64(claims)}.${Buffer.from('sig').toString('base64url')}`;

/** The subject token: expires in 10 minutes. */
export const subjectToken = jwt({ sub: 'user-42', exp: nowSeconds + 600, n: 'subject-3b9f' });

/** The actor token: expires in 5 minutes, before the subject token. */
export const actorToken = jwt({ sub: 'orders-api', exp: nowSeconds + 300, n: 'actor-77ac' });
