/**
 * The test tree mirrors the source tree, so a newcomer finds a module's tests from its name:
 * `src/<path>.ts` is tested in `test/<path>.test.ts`, or `TESTED_IN` below names the test file
 * where it is (a module tested through its entry point, a CLI command run as a process, …).
 * Files with type-level assertions run as vitest type tests too, so none of them is left out.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../vitest.config.js';

const root = join(import.meta.dirname, '..');

/** Source modules whose tests are not at their mirrored path: `source → test file`. */
const TESTED_IN: Readonly<Record<string, string>> = {
  // Entry points: their exports are checked as built; behaviour where each part is tested.
  'src/index.ts': 'test/package/exports.test.ts',
  'src/client.ts': 'test/package/exports.test.ts',
  'src/server.ts': 'test/package/exports.test.ts',
  'src/express.ts': 'test/runtime/middleware/middleware.test.ts',
  'src/fastify.ts': 'test/runtime/middleware/middleware.test.ts',
  'src/otel.ts': 'test/runtime/observability/otel.test.ts',
  'src/redis.ts': 'test/runtime/redis/redis-store.test.ts',
  'src/schemas.ts': 'test/fuzz/schemas.fuzz.test.ts',
  'src/testing.ts': 'test/runtime/testing/test-issuer.test.ts',

  // The CLI runs as a process: one test file per command, the shared parts by what they do.
  'src/cli/client-options.ts': 'test/cli/token.test.ts',
  'src/cli/command.ts': 'test/cli/help.test.ts',
  'src/cli/commands/decode.ts': 'test/cli/decode.test.ts',
  'src/cli/commands/dev-idp.ts': 'test/cli/dev-idp.test.ts',
  'src/cli/commands/dpop-proof.ts': 'test/cli/dpop-proof.test.ts',
  'src/cli/commands/exchange.ts': 'test/cli/exchange.test.ts',
  'src/cli/commands/introspect.ts': 'test/cli/introspect.test.ts',
  'src/cli/commands/keygen.ts': 'test/cli/keygen.test.ts',
  'src/cli/commands/token.ts': 'test/cli/token.test.ts',
  'src/cli/commands/verify.ts': 'test/cli/verify.test.ts',
  'src/cli/exit-codes.ts': 'test/cli/help.test.ts',
  'src/cli/inputs.ts': 'test/cli/sources.test.ts',
  'src/cli/io.ts': 'test/cli/no-echo.test.ts',
  'src/cli/main.ts': 'test/cli/help.test.ts',
  'src/cli/run.ts': 'test/cli/help.test.ts',
  'src/cli/dev-idp-exchange.ts': 'test/cli/exchange.test.ts',
  'src/cli/token-exchange-grant.ts': 'test/cli/exchange.test.ts',

  'src/runtime/errors.ts': 'test/integration/errors.test.ts',

  'src/runtime/client/client-profile.ts': 'test/runtime/client/profiles.test.ts',
  'src/runtime/client/dpop-nonces.ts': 'test/runtime/client/authorised-fetch.test.ts',
  'src/runtime/client/auth-client-events.ts': 'test/runtime/client/resilience.test.ts',
  'src/runtime/client/fetch-token.ts': 'test/runtime/client/auth-client.test.ts',
  'src/runtime/client/client-options.ts': 'test/runtime/client/profiles.test.ts',
  'src/runtime/client/refresh-ahead.ts': 'test/runtime/client/resilience.test.ts',
  'src/runtime/client/refresh-policy.ts': 'test/runtime/client/resilience.test.ts',
  'src/runtime/client/resolve-options.ts': 'test/runtime/client/auth-client.test.ts',
  'src/runtime/client/stored-token.ts': 'test/integration/shared-token-cache.test.ts',
  'src/runtime/client/token-source.ts': 'test/runtime/client/auth-client.test.ts',
  'src/runtime/client/types.ts': 'test/package/exports.test.ts',
  'src/runtime/client/until-aborted.ts': 'test/runtime/client/resilience.test.ts',
  'src/runtime/client/shared-token-cache.ts': 'test/integration/shared-token-cache.test.ts',

  'src/runtime/crypto/algorithms.ts': 'test/runtime/crypto/jwk.test.ts',
  'src/runtime/crypto/backend-node.ts': 'test/runtime/crypto/backend.test.ts',
  'src/runtime/crypto/base64url.ts': 'test/runtime/server/compact-jws.test.ts',

  'src/runtime/introspection/caller-options.ts': 'test/integration/introspection.test.ts',
  'src/runtime/introspection/introspection.ts': 'test/integration/introspection.test.ts',
  'src/runtime/introspection/introspection-result.ts':
    'test/runtime/introspection/result-type.test.ts',
  'src/runtime/introspection/request.ts': 'test/integration/introspection.test.ts',

  'src/runtime/middleware/authenticate.ts': 'test/runtime/middleware/middleware.test.ts',
  'src/runtime/middleware/verified-requests.ts': 'test/runtime/middleware/require-scopes.test.ts',

  // Every profile is checked against its IdP's genuine tokens in one table-driven file.
  'src/runtime/profiles/auth0.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/authentik.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/cognito.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/duende.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/entra.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/google.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/index.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/keycloak.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/okta.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/pingone.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/types.ts': 'test/runtime/profiles/idp-profiles.test.ts',
  'src/runtime/profiles/zitadel.ts': 'test/runtime/profiles/idp-profiles.test.ts',

  // The store's parts, tested through createRedisStore against a real redis-server.
  'src/runtime/redis/compare-and-delete.ts': 'test/runtime/redis/redis-store.test.ts',
  'src/runtime/redis/deletion-watch.ts': 'test/runtime/redis/redis-store.test.ts',
  'src/runtime/redis/redis-client.ts': 'test/runtime/redis/redis-store.test.ts',
  'src/runtime/redis/redis-store-error.ts': 'test/runtime/redis/redis-store.test.ts',
  'src/runtime/redis/value-cipher.ts': 'test/runtime/redis/redis-store.test.ts',

  'src/runtime/server/algorithm-option.ts': 'test/runtime/server/resource-server-options.test.ts',
  'src/runtime/server/introspection-options.ts': 'test/runtime/server/opaque-tokens.test.ts',
  'src/runtime/server/key-set-index.ts': 'test/runtime/server/jwks-cache.test.ts',
  'src/runtime/server/resolve-options.ts': 'test/runtime/server/resource-server-options.test.ts',
  'src/runtime/server/resource-server-events.ts': 'test/runtime/server/events.test.ts',
  'src/runtime/server/verify-options.ts': 'test/runtime/server/resource-server-options.test.ts',
  'src/runtime/server/dpop-nonce.ts': 'test/runtime/server/verify-request.test.ts',
  'src/runtime/server/dpop-verify.ts': 'test/runtime/server/verify-request.test.ts',
  'src/runtime/server/index.ts': 'test/package/exports.test.ts',
  'src/runtime/server/issuer-policy.ts': 'test/runtime/server/token-policy-options.test.ts',
  'src/runtime/server/jwks-fetch.ts': 'test/runtime/server/jwks-cache.test.ts',
  'src/runtime/server/jwt-verify.ts': 'test/runtime/server/verify-token.test.ts',
  'src/runtime/server/rejection.ts': 'test/runtime/server/www-authenticate.test.ts',
  'src/runtime/server/request.ts': 'test/runtime/server/verify-request.test.ts',
  'src/runtime/server/resource-server.ts': 'test/runtime/server/verify-token.test.ts',

  'src/runtime/shared/events.ts': 'test/runtime/server/events.test.ts',
  'src/runtime/shared/keys.ts': 'test/runtime/client/client-authentication.test.ts',
  'src/runtime/shared/scope.ts': 'test/runtime/client/cache-key.test.ts',
  'src/runtime/shared/store.ts': 'test/runtime/shared/memory-store.test.ts',
};

/** Every file under `dir`, as a path from the repository root with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

const sources = filesUnder('src').filter(
  (file) => file.endsWith('.ts') && !file.startsWith('src/generated/'),
);

/** `src/runtime/x/y.ts` → `test/runtime/x/y.test.ts`. */
function mirrored(source: string): string {
  return `test/${source.slice('src/'.length, -'.ts'.length)}.test.ts`;
}

describe('the test tree', () => {
  it('has a test file for every source module, at its mirrored path or named in TESTED_IN', () => {
    expect(sources.length).toBeGreaterThan(50);
    const untested = sources.filter(
      (source) => !existsSync(join(root, mirrored(source))) && TESTED_IN[source] === undefined,
    );
    expect(untested).toEqual([]);
  });

  it('names in TESTED_IN only source modules that exist and test files that exist', () => {
    const entries = Object.entries(TESTED_IN);
    expect(entries.filter(([source]) => !sources.includes(source))).toEqual([]);
    expect(entries.filter(([, test]) => !existsSync(join(root, test)))).toEqual([]);
  });

  it('keeps no TESTED_IN entry for a module that has a test at its mirrored path', () => {
    expect(
      Object.keys(TESTED_IN).filter((source) => existsSync(join(root, mirrored(source)))),
    ).toEqual([]);
  });

  it('runs every test file with type-level assertions as a type test too', () => {
    const typed = filesUnder('test').filter(
      (file) =>
        file.endsWith('.test.ts') &&
        /\b(?:expectTypeOf|assertType)\b/.test(readFileSync(join(root, file), 'utf8')) &&
        file !== 'test/structure.test.ts',
    );
    expect(typed.length).toBeGreaterThan(0);
    expect(config.test?.typecheck?.enabled).toBe(true);
    expect([...(config.test?.typecheck?.include ?? [])].sort()).toEqual(typed);
  });
});
