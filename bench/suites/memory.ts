/**
 * Memory per cached item, measured with `process.memoryUsage()` over many items after a full
 * garbage collection (run with --expose-gc): the growth divided by the count.
 *
 * - a cached token in the client (a realistic ~800-character JWT access token per slot);
 * - a cached JWKS in a resource server (three keys, RS256, ES256 and EdDSA, all imported);
 * - a replay-store entry (one DPoP proof's jkt.jti);
 * - a verified-token cache entry in a resource server.
 */
import { randomUUID } from 'node:crypto';
import {
  ALGS,
  AUDIENCE,
  ISSUER,
  JWKS_URI,
  accessToken,
  loadBuilds,
  makeKeys,
  memoryIdp,
} from '../lib/fixtures.js';
import { assert, printTable, size, suite } from '../lib/harness.js';

const collect = (globalThis as { gc?: () => void }).gc;

interface Usage {
  heap: number;
  external: number;
  rss: number;
}

async function settle(): Promise<Usage> {
  for (let i = 0; i < 4; i++) {
    collect?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, external, rss } = process.memoryUsage();
  return { heap: heapUsed, external, rss };
}

interface PerItem {
  what: string;
  count: number;
  heapBytes: number;
  externalBytes: number;
  rssBytes: number;
  note?: string;
}

async function perItem(
  what: string,
  count: number,
  fill: () => Promise<unknown>,
  note?: string,
): Promise<PerItem> {
  const before = await settle();
  const keep = await fill();
  const after = await settle();
  assert(keep !== undefined, 'the measured items are still referenced');
  return {
    what,
    count,
    heapBytes: Math.round((after.heap - before.heap) / count),
    externalBytes: Math.round((after.external - before.external) / count),
    rssBytes: Math.round((after.rss - before.rss) / count),
    ...(note === undefined ? {} : { note }),
  };
}

await suite('memory', async (report) => {
  if (!collect) throw new Error('run with --expose-gc');
  const builds = await loadBuilds();
  const keys = await makeKeys();
  const rows: PerItem[] = [];
  const sample = accessToken(keys.ES256);

  for (const build of ['node', 'web'] as const) {
    const s2s = builds[build];

    // Cached tokens: ten clients, each filling its slots (the cache holds 1000 per client).
    {
      const clients = size(10, 2);
      const perClient = size(1000, 50);
      let served = 0;
      const fetch = async () => {
        served++;
        return Response.json({
          access_token: accessToken(keys.ES256),
          token_type: 'Bearer',
          expires_in: 3600,
          scope: 'orders:read',
        });
      };
      const made = Array.from({ length: clients }, () =>
        s2s.createAuthClient({
          tokenEndpoint: `${ISSUER}/token`,
          clientId: 'c',
          clientSecret: 's',
          fetch,
        }),
      );
      rows.push(
        await perItem(
          `cached token (client), ${build} build`,
          clients * perClient,
          async () => {
            for (const client of made) {
              for (let i = 0; i < perClient; i++) await client.getToken({ scope: `scope-${i}` });
            }
            return made;
          },
          `includes the ${sample.length}-character access token itself`,
        ),
      );
      assert(served === clients * perClient, 'one token request per slot');
    }

    // Cached key sets: servers that have fetched the set and imported all three keys, against
    // servers that have not.
    {
      const count = size(300, 10);
      const idp = memoryIdp(Object.values(keys));
      const servers = Array.from({ length: count }, () =>
        s2s.createResourceServer({
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUri: JWKS_URI,
          fetch: idp.fetch,
        }),
      );
      const tokens = ALGS.map((alg) => accessToken(keys[alg]));
      rows.push(
        await perItem(
          `cached JWKS (3 keys, imported), ${build} build`,
          count,
          async () => {
            for (const server of servers)
              for (const token of tokens) await server.verifyToken(token);
            return servers;
          },
          'the parsed set, its index and one imported key per algorithm',
        ),
      );
    }

    // Verified-token cache entries: tokens verified three times (stored on the second, the
    // claims parsed for hits on the third), in five servers of 1000 entries each. The tokens are
    // held by this loop as a server's requests would hold them; the entry is the rest.
    {
      const servers = Array.from({ length: size(5, 1) }, () =>
        s2s.createResourceServer({
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUri: JWKS_URI,
          fetch: memoryIdp([keys.ES256]).fetch,
        }),
      );
      const perServer = size(1000, 20);
      for (const server of servers) await server.verifyToken(sample);
      const tokens = Array.from({ length: perServer }, () => accessToken(keys.ES256));
      rows.push(
        await perItem(
          `verified-token cache entry, ${build} build`,
          servers.length * perServer,
          async () => {
            for (const server of servers) {
              for (const token of tokens) {
                for (let call = 0; call < 3; call++) await server.verifyToken(token);
              }
            }
            return tokens;
          },
          'entry and parsed claims; not the token string, which the request carries anyway',
        ),
      );
    }

    // Replay-store entries, as a DPoP proof leaves them: jkt (43 characters) . jti (22+).
    {
      const count = size(100_000, 1000);
      const store = s2s.createMemoryReplayStore({ maxEntries: count });
      const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
      const ids = Array.from({ length: count }, () => randomUUID());
      rows.push(
        await perItem(
          `replay-store entry, ${build} build`,
          count,
          async () => {
            for (const id of ids) await store.checkAndSet(`${jkt}.${id}`, 60);
            return store;
          },
          'the key string (jkt.jti) included',
        ),
      );
    }
  }

  console.log('\n### Memory per cached item');
  printTable(
    ['item', 'count', 'heap bytes / item', 'external bytes / item', 'rss bytes / item', 'note'],
    rows.map((row) => [
      row.what,
      String(row.count),
      String(row.heapBytes),
      String(row.externalBytes),
      String(row.rssBytes),
      row.note ?? '',
    ]),
  );
  report.measurements.perItem = rows;
});
