/**
 * getToken cache hit: a client asks for a token on every outbound call. Baseline = 1.00: an
 * async function doing only the unavoidable work, on the same clock: build the key from the
 * options (split, sort, join), one `Map.get`, one expiry check. Each call gets a new options
 * object, as `getToken({ scope: … })` in application code makes one.
 */
import { ISSUER, loadBuilds } from '../lib/fixtures.js';
import { assert, compare, size, suite, type Contender } from '../lib/harness.js';

const BATCH = size(20_000, 20);
const ROUNDS = size(20, 1);
const WARMUP = size(3, 1);

const RESOURCE = 'https://orders.example.com';
const ACCESS_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJl';

await suite('get-token', async (report) => {
  const builds = await loadBuilds();
  const now = () => new Date();
  const requests = { node: 0, web: 0 };
  const idp = (build: 'node' | 'web') => async () => {
    requests[build]++;
    return Response.json({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600 });
  };
  const clients = {
    node: builds.node.createAuthClient({
      tokenEndpoint: `${ISSUER}/token`,
      clientId: 'svc-billing-worker',
      clientSecret: 'secret',
      scope: 'orders:read',
      resource: RESOURCE,
      fetch: idp('node'),
      now,
    }),
    web: builds.web.createAuthClient({
      tokenEndpoint: `${ISSUER}/token`,
      clientId: 'svc-billing-worker',
      clientSecret: 'secret',
      scope: 'orders:read',
      resource: RESOURCE,
      fetch: idp('web'),
      now,
    }),
  };
  // Fill both caches: the default slot and the two-scope slot.
  for (const client of Object.values(clients)) {
    await client.getToken();
    await client.getToken({ scope: 'orders:read orders:write' });
  }

  // The floor's cache, holding the same two slots.
  const entry = {
    value: { access_token: ACCESS_TOKEN, token_type: 'Bearer' },
    refreshAtMs: Date.now() + 3_000_000,
  };
  const floorCache = new Map([
    [`orders:read\n${RESOURCE}`, entry],
    [`orders:read orders:write\n${RESOURCE}`, entry],
  ]);
  const defaultKey = `orders:read\n${RESOURCE}`;
  async function floor(options?: { scope?: string | readonly string[] }) {
    const scope = options?.scope;
    // No options: the default slot's key is known; otherwise it is built from the options.
    const key =
      scope === undefined
        ? defaultKey
        : `${(typeof scope === 'string' ? scope.split(' ') : [...scope]).sort().join(' ')}\n${RESOURCE}`;
    const cached = floorCache.get(key);
    if (cached !== undefined && now().getTime() < cached.refreshAtMs) return cached.value;
    throw new Error('floor: miss');
  }
  const isToken = (token: unknown) =>
    (token as { access_token?: string }).access_token === ACCESS_TOKEN;

  const scenarios = [
    { id: 'default', title: 'no options (the client default scope)', options: () => undefined },
    {
      id: 'string',
      title: "scope: 'orders:write orders:read'",
      options: () => ({ scope: 'orders:write orders:read' }),
    },
    {
      id: 'array',
      title: "scope: ['orders:write', 'orders:read']",
      options: () => ({ scope: ['orders:write', 'orders:read'] }),
    },
  ] as const;

  for (const scenario of scenarios) {
    const contenders: Contender[] = [
      {
        name: 'floor: key + Map.get + expiry',
        run: () => floor(scenario.options()),
        check: isToken,
      },
      {
        name: 's2s-auth getToken, Node build',
        run: () => clients.node.getToken(scenario.options()),
        check: isToken,
      },
      {
        name: 's2s-auth getToken, default build',
        run: () => clients.web.getToken(scenario.options()),
        check: isToken,
      },
    ];
    report.comparisons.push(
      await compare({
        id: `get-token-${scenario.id}`,
        title: `getToken cache hit, ${scenario.title}`,
        baseline: 'floor: key + Map.get + expiry',
        contenders,
        batch: BATCH,
        rounds: ROUNDS,
        warmup: WARMUP,
      }),
    );
  }
  // Every call above was a hit: the IdP was asked once per slot and build.
  assert(
    requests.node === 2 && requests.web === 2,
    `two token requests per client, not ${JSON.stringify(requests)}`,
  );
});
