import { describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServerEvent } from '../../../src/server.js';
import { accessToken, AUDIENCE, fakeIdp, ISSUER, makeKey, START } from './helpers.js';
import { manualClock } from '../../support/clock.js';

describe('resource server events', () => {
  it('reports key-set fetches and refusals with their reason, never the token', async () => {
    const key = await makeKey('ES256');
    const idp = fakeIdp([key.jwk]);
    const clock = manualClock(START);
    const events: ResourceServerEvent[] = [];
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: `${ISSUER}/jwks`,
      fetch: idp.fetch,
      now: clock.now,
      onEvent: (event) => events.push(event),
    });
    const token = await accessToken(key, clock.seconds());
    await server.verifyToken(token);
    await server.verifyToken(`${token.slice(0, -8)}AAAAAAAA`).catch(() => undefined);
    await server.verifyToken(token, { requiredScopes: ['nope'] }).catch(() => undefined);
    expect(events).toEqual([
      { type: 'jwks_fetched', reason: 'initial', ok: true, keys: 1, published: 1 },
      {
        type: 'verification_failed',
        reason: 'signature',
        status: 401,
        detail:
          'kid "es256-1" is in the key set; the signature does not verify with its key (ES256)',
      },
      {
        type: 'verification_failed',
        reason: 'scope',
        status: 403,
        detail:
          'missing nope; the token grants "orders:read orders:write", read from scope (the `scopeClaims` option)',
      },
    ]);
    for (const part of token.split('.')) expect(JSON.stringify(events)).not.toContain(part);
  });

  it('tells what was expected and what was found, in the event as in the error', async () => {
    const key = await makeKey('ES256');
    const idp = fakeIdp([key.jwk]);
    const clock = manualClock(START);
    const events: ResourceServerEvent[] = [];
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: `${ISSUER}/jwks`,
      fetch: idp.fetch,
      now: clock.now,
      onEvent: (event) => events.push(event),
    });
    const token = await accessToken(key, clock.seconds(), { aud: 'https://billing.example.test' });
    const error = await server.verifyToken(token).catch((caught: unknown) => caught);
    expect(events).toEqual([
      {
        type: 'verification_failed',
        reason: 'audience',
        status: 401,
        detail: `aud is "https://billing.example.test"; expected "${AUDIENCE}" (the \`audience\` option)`,
      },
    ]);
    expect(error).toMatchObject({
      reason: 'audience',
      detail: (events[0] as { detail?: string }).detail,
    });
  });

  it('keeps verifying when the listener throws', async () => {
    const key = await makeKey('ES256');
    const idp = fakeIdp([key.jwk]);
    const clock = manualClock(START);
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: `${ISSUER}/jwks`,
      fetch: idp.fetch,
      now: clock.now,
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await expect(
      server.verifyToken(await accessToken(key, clock.seconds())),
    ).resolves.toMatchObject({ iss: ISSUER });
  });
});
