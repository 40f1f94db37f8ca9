/**
 * Cold start under load: 10,000 concurrent getToken calls on an empty cache, against a real
 * authorization server (oidc-provider on 127.0.0.1). Exactly one token request must reach the
 * IdP (single flight), and every caller gets the same token. Baseline = 1.00: one getToken on
 * an empty cache (discovery and one token request: the round trip nobody can skip).
 */
import { CLIENTS, startIdp } from '../../test/support/idp.js';
import { loadBuilds } from '../lib/fixtures.js';
import { assert, compare, size, suite } from '../lib/harness.js';

const CALLERS = size(10_000, 100);
const ROUNDS = size(10, 1);
const WARMUP = size(2, 1);

await suite('cold-get-token', async (report) => {
  const builds = await loadBuilds();
  const idp = await startIdp();
  try {
    const client = (build: 'node' | 'web') =>
      builds[build].createAuthClient({ issuer: idp.issuer, ...CLIENTS.basic });

    async function concurrent(build: 'node' | 'web') {
      idp.resetRequests();
      const auth = client(build);
      const tokens = await Promise.all(
        Array.from({ length: CALLERS }, () => auth.getAccessToken()),
      );
      const tokenRequests = idp.count('/token', 'POST');
      assert(
        tokenRequests === 1,
        `${CALLERS} concurrent calls made ${tokenRequests} token requests`,
      );
      assert(new Set(tokens).size === 1, 'every caller got the same token');
      return tokens.length;
    }

    const comparison = await compare({
      id: 'cold-get-token',
      title: `${CALLERS.toLocaleString('en')} concurrent getToken calls on an empty cache, local IdP`,
      baseline: 'one getToken (discovery + token request)',
      contenders: [
        {
          name: 'one getToken (discovery + token request)',
          run: async () => (await client('node').getAccessToken()).length > 0,
        },
        {
          name: `${CALLERS} concurrent getToken, Node build`,
          run: () => concurrent('node'),
          check: (n) => n === CALLERS,
        },
        {
          name: `${CALLERS} concurrent getToken, default build`,
          run: () => concurrent('web'),
          check: (n) => n === CALLERS,
        },
      ],
      batch: 1,
      rounds: ROUNDS,
      warmup: WARMUP,
      notes: [
        'Each concurrent run asserts exactly one token request at the IdP and one token for all callers.',
        'The ratio is the time of one call over the time until all callers have their token.',
      ],
    });
    report.comparisons.push(comparison);
    report.measurements.tokenRequestsPerConcurrentRun = 1;
    report.measurements.callers = CALLERS;
  } finally {
    await idp.close();
  }
});
