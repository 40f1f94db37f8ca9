/**
 * DPoP replay across resource-server instances: instances sharing createRedisStore as their
 * `replayStore` refuse a proof another instance accepted; instances with their own memory
 * store cannot. A real IdP issues the DPoP-bound tokens; a real redis-server holds the jtis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  TokenError,
  type ReplayStore,
} from '../../../src/index.js';
import { createRedisStore, type RedisStore } from '../../../src/redis.js';
import { CLIENTS, RESOURCES, startIdp, type TestIdp } from '../../support/idp.js';
import { startRedis, type TestRedis } from './support/redis-server.js';

let idp: TestIdp;
let redis: TestRedis;
const stores: RedisStore[] = [];

beforeAll(async () => {
  [idp, redis] = await Promise.all([startIdp(), startRedis()]);
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await Promise.all([idp.close(), redis.stop()]);
});

/** One resource-server instance with its own Redis connection, as a separate process would have. */
function instance(replayStore?: ReplayStore) {
  return createResourceServer({
    issuer: idp.issuer,
    audience: RESOURCES.jwt,
    ...(replayStore ? { replayStore } : {}),
  });
}

function sharedStore(prefix: string) {
  const store = createRedisStore(redis.client(), { prefix });
  stores.push(store);
  return store;
}

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

const url = 'https://orders.example.test/orders';
const auth = () =>
  createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.dpopOnly.clientId,
    clientSecret: CLIENTS.dpopOnly.clientSecret,
    scope: 'orders:read',
    resource: RESOURCES.jwt,
    dpop: true,
  });

async function signedRequest(client: ReturnType<typeof auth>) {
  const token = await client.getToken();
  expect(token.token_type).toBe('DPoP');
  const proof = await client.buildDpopProof({
    htm: 'POST',
    htu: url,
    accessToken: token.access_token,
  });
  return () =>
    new Request(url, {
      method: 'POST',
      headers: { authorization: `DPoP ${token.access_token}`, dpop: proof },
    });
}

describe('a replay store on Redis shared by resource-server instances', () => {
  it('refuses a proof on one instance that another instance accepted', async () => {
    const one = instance(sharedStore('replay-a:'));
    const two = instance(sharedStore('replay-a:'));
    const request = await signedRequest(auth());
    const claims = await one.verifyRequest(request());
    expect(claims.cnf?.jkt).toBeTruthy();
    const error = await rejection(two.verifyRequest(request()));
    expect(error.reason).toBe('dpop_replay');
    expect(error.status).toBe(401);
    expect(error.wwwAuthenticate).toContain('invalid_dpop_proof');
  });

  it('accepts a new proof for the same token on the other instance', async () => {
    const client = auth();
    const one = instance(sharedStore('replay-b:'));
    const two = instance(sharedStore('replay-b:'));
    const first = await one.verifyRequest((await signedRequest(client))());
    const second = await two.verifyRequest((await signedRequest(client))());
    expect(second.client_id).toBe(CLIENTS.dpopOnly.clientId);
    expect(second.cnf?.jkt).toEqual(expect.any(String));
    expect(second.cnf?.jkt).toBe(first.cnf?.jkt);
  });

  it('remembers the proof in Redis for a bounded time', async () => {
    const admin = redis.client();
    const one = instance(sharedStore('replay-c:'));
    await one.verifyRequest((await signedRequest(auth()))());
    const keys = await admin.keys('replay-c:dpop-jti:*');
    expect(keys).toHaveLength(1);
    const ttl = await admin.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('is needed: instances with their own memory stores both accept the replay', async () => {
    const request = await signedRequest(auth());
    const first = await instance().verifyRequest(request());
    const replayed = await instance().verifyRequest(request());
    expect(replayed.client_id).toBe(CLIENTS.dpopOnly.clientId);
    expect(replayed.jti).toBe(first.jti);
    expect(replayed.cnf?.jkt).toBe(first.cnf?.jkt);
  });

  it('refuses proofs while Redis is unreachable rather than letting replays through', async () => {
    const store = createRedisStore(redis.client({ commandTimeout: 300 }), { prefix: 'replay-d:' });
    stores.push(store);
    const server = instance(store);
    const request = await signedRequest(auth());
    await redis.kill();
    try {
      const error = await rejection(server.verifyRequest(request()));
      expect(error.reason).toBe('dpop');
    } finally {
      await redis.restart();
    }
  });
});
