/**
 * A DPoP signer keeps the last URL and the last token hash it worked out: proofs for a new URL
 * or a new token must carry their own `htu` and `ath`, never the previous ones.
 */
import { createHash } from 'node:crypto';
import { EmbeddedJWK, jwtVerify } from 'jose';
import { expect, it } from 'vitest';
import { createAuthClient } from '../../../src/client.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

it('gives each proof the htu and ath of its own request, in any order and at once', async () => {
  const auth = createAuthClient({
    tokenEndpoint: 'https://idp.example.test/token',
    clientId: 'c',
    clientSecret: 's',
    dpop: true,
    fetch: fakeFetch(() => json({})),
    now: manualClock().now,
  });
  const calls = [
    { htu: 'https://a.example/x', accessToken: 'token-1' },
    { htu: 'https://a.example/x', accessToken: 'token-1' },
    { htu: 'https://a.example/y?q=1', accessToken: 'token-2' },
    { htu: 'https://a.example/x', accessToken: 'token-1' },
    { htu: 'https://a.example/x', accessToken: undefined },
    { htu: 'https://a.example/y', accessToken: 'token-2' },
  ];
  for (const round of [false, true]) {
    const proofs = round
      ? await Promise.all(calls.map((call) => auth.buildDpopProof({ htm: 'GET', ...call })))
      : await calls.reduce<Promise<string[]>>(
          async (done, call) => [
            ...(await done),
            await auth.buildDpopProof({ htm: 'GET', ...call }),
          ],
          Promise.resolve([]),
        );
    for (const [index, proof] of proofs.entries()) {
      const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
      const call = calls[index]!;
      expect(payload.htu).toBe(call.htu.replace(/\?.*$/, ''));
      expect(payload.ath).toBe(call.accessToken === undefined ? undefined : ath(call.accessToken));
    }
  }
  await expect(
    auth.buildDpopProof({ htm: 'GET', htu: undefined as unknown as string }),
  ).rejects.toThrow(TypeError);
});
