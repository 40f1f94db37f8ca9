import { describe, expect, it } from 'vitest';
import { Rejection } from '../../../src/runtime/server/rejection.js';
import {
  checkMarkers,
  checkTyp,
  grantedScopes,
  type TokenPolicy,
} from '../../../src/runtime/server/token-policy.js';
import { resolveTokenPolicy } from '../../../src/runtime/server/token-policy-options.js';
import { profiles } from '../../../src/runtime/profiles/index.js';

const WHERE = 'createResourceServer';

function rejection(run: () => void): Rejection {
  try {
    run();
  } catch (error) {
    if (error instanceof Rejection) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const policy = (
  options: Parameters<typeof resolveTokenPolicy>[0] = {},
  profile?: keyof typeof profiles,
): TokenPolicy =>
  resolveTokenPolicy(options, profile === undefined ? undefined : profiles[profile].server, WHERE);

describe('checkTyp', () => {
  it('accepts at+jwt and application/at+jwt by default, and nothing else', () => {
    const rules = policy();
    expect(() => checkTyp('at+jwt', rules)).not.toThrow();
    expect(() => checkTyp('application/AT+JWT', rules)).not.toThrow();
    for (const typ of ['JWT', undefined, 'dpop+jwt', 42])
      expect(rejection(() => checkTyp(typ, rules)).reason).toBe('type');
  });

  it.each([
    'logout+jwt',
    'token-introspection+jwt',
    'dpop+jwt',
    'secevent+jwt',
    'application/logout+jwt',
    'id_token',
    '',
  ])('with typ: false still refuses typ %j, naming it and the option', (typ) => {
    const found = rejection(() => checkTyp(typ, policy({ typ: false })));
    expect(found.reason).toBe('type');
    expect(found.details.detail).toContain(JSON.stringify(typ));
    expect(found.details.detail).toContain('the `typ` option');
  });

  it.each([undefined, 'JWT', 'jwt', 'at+jwt', 'application/at+jwt'])(
    'with typ: false accepts typ %j',
    (typ) => {
      expect(() => checkTyp(typ, policy({ typ: false }))).not.toThrow();
    },
  );

  it('takes a list of accepted types', () => {
    const rules = policy({ typ: ['JWT', 'at+jwt'] });
    expect(() => checkTyp('JWT', rules)).not.toThrow();
    expect(() => checkTyp('at+jwt', rules)).not.toThrow();
    expect(() => checkTyp(undefined, rules)).toThrow(Rejection);
  });

  it('shows a long typ shortened and quoted, never whole', () => {
    const typ = `x${'a'.repeat(500)}`;
    const detail = rejection(() => checkTyp(typ, policy())).details.detail ?? '';
    expect(detail.length).toBeLessThan(200);
    expect(detail).not.toContain(typ);
  });
});

describe('checkMarkers', () => {
  const base = { iss: 'i', exp: 1, aud: 'a', sub: 's', client_id: 'c', iat: 0, jti: 'j' };

  it('requires the RFC 9068 claims of an at+jwt token by default, naming the missing one', () => {
    expect(() => checkMarkers(base, 'at+jwt', policy())).not.toThrow();
    for (const name of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) {
      const { [name]: _gone, ...rest } = base as Record<string, unknown>;
      const found = rejection(() => checkMarkers(rest, 'at+jwt', policy()));
      expect(found.reason).toBe('claims');
      expect(found.details.detail).toMatch(new RegExp(`^no ${name} claim`));
    }
  });

  it('requires nothing more of a token that is not typed at+jwt unless told to', () => {
    expect(() => checkMarkers({ iss: 'i', exp: 1 }, 'JWT', policy({ typ: false }))).not.toThrow();
  });

  it('relaxes or replaces the list with requiredClaims, with alternatives', () => {
    const rules = policy({ requiredClaims: ['iss', ['azp', 'appid']] });
    expect(() => checkMarkers({ iss: 'i', appid: 'x' }, 'at+jwt', rules)).not.toThrow();
    expect(rejection(() => checkMarkers({ iss: 'i' }, 'at+jwt', rules)).details.detail).toMatch(
      /^no azp or appid claim/,
    );
  });

  it('demands claim values and the absence of ID-token markers', () => {
    const rules = policy({ claimValues: { typ: ['Bearer', 'DPoP'] }, absentClaims: ['nonce'] });
    expect(() => checkMarkers({ typ: 'Bearer' }, 'JWT', rules)).not.toThrow();
    expect(rejection(() => checkMarkers({ typ: 'ID' }, 'JWT', rules)).details.detail).toBe(
      'claim typ is "ID"; expected "Bearer" or "DPoP" (the `claimValues` option)',
    );
    expect(rejection(() => checkMarkers({ typ: 'Bearer', nonce: 'n' }, 'JWT', rules)).reason).toBe(
      'claims',
    );
  });

  it('checks the client allow-list against the first client-id claim present', () => {
    const rules = policy({ clientIds: ['billing'] });
    expect(() => checkMarkers({ azp: 'billing' }, 'JWT', rules)).not.toThrow();
    const other = rejection(() => checkMarkers({ client_id: 'other' }, 'JWT', rules));
    expect(other.reason).toBe('audience');
    expect(other.details.detail).toContain('client_id is "other"; expected one of "billing"');
    expect(rejection(() => checkMarkers({}, 'JWT', rules)).details.detail).toMatch(
      /^no client_id or azp or appid claim/,
    );
  });
});

describe('grantedScopes', () => {
  it('reads a space-separated scope string by default, and only scope', () => {
    expect([...grantedScopes({ scope: 'a  b', scp: 'c' }, ['scope'])]).toEqual(['a', 'b']);
  });

  it('reads a JSON array of strings (Duende) and skips what is not a string', () => {
    expect([...grantedScopes({ scope: ['a', 7, 'b', ''] }, ['scope'])]).toEqual(['a', 'b']);
  });

  it('reads object keys (ZITADEL project roles) and several claims in order', () => {
    const claims = {
      'urn:zitadel:iam:org:project:roles': { admin: {}, reader: {} },
      scope: 'openid',
    };
    expect([...grantedScopes(claims, ['urn:zitadel:iam:org:project:roles', 'scope'])]).toEqual([
      'admin',
      'reader',
      'openid',
    ]);
  });

  it('reads nested claims through a JSON Pointer (Keycloak realm and client roles)', () => {
    const claims = {
      realm_access: { roles: ['offline_access', 'orders-reader'] },
      resource_access: { 'orders-api': { roles: ['write'] }, 'a/b': { roles: ['slash'] } },
      'realm_access.roles': ['a dotted claim name is not a path'],
    };
    expect([...grantedScopes(claims, ['/realm_access/roles'])]).toEqual([
      'offline_access',
      'orders-reader',
    ]);
    expect([...grantedScopes(claims, ['/resource_access/orders-api/roles'])]).toEqual(['write']);
    expect([...grantedScopes(claims, ['/resource_access/a~1b/roles'])]).toEqual(['slash']);
    expect(grantedScopes(claims, ['/resource_access/billing/roles']).size).toBe(0);
    expect(
      grantedScopes({ realm_access: { roles: 'x' }, toString: 1 }, ['/toString/roles']).size,
    ).toBe(0);
  });

  it('grants nothing from a claim of another type', () => {
    expect(grantedScopes({ scope: 42 }, ['scope']).size).toBe(0);
  });
});

describe('resolveTokenPolicy', () => {
  it('takes the profile’s values, and an explicit option wins over them', () => {
    expect(policy({}, 'keycloak').claimValues).toEqual([['typ', ['Bearer', 'DPoP']]]);
    expect(policy({ claimValues: { typ: 'Bearer' } }, 'keycloak').claimValues).toEqual([
      ['typ', ['Bearer']],
    ]);
  });

  it('refuses a profile that needs a client allow-list without one', () => {
    expect(() => policy({}, 'cognito')).toThrow(/this profile needs `clientIds`/);
    expect(() => policy({ clientIds: ['app'] }, 'cognito')).not.toThrow();
  });

  it.each([
    [{ typ: [] }, /`typ` must be/],
    [{ typ: 7 }, /`typ` must be/],
    [{ requiredClaims: 'iss' }, /`requiredClaims` must be/],
    [{ requiredClaims: [[]] }, /`requiredClaims` must be/],
    [{ claimValues: { typ: [] } }, /`claimValues.typ` must be/],
    [{ claimValues: { typ: { nested: true } } }, /`claimValues.typ` must be/],
    [{ absentClaims: ['ok', ''] }, /`absentClaims` must be/],
    [{ scopeClaims: 'scope' }, /`scopeClaims` must be/],
    [{ clientIds: [] }, /`clientIds` must be/],
  ])('refuses %j', (options, message) => {
    expect(() => policy(options)).toThrow(message);
  });
});
