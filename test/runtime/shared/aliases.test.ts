import { describe, expect, it } from 'vitest';
import { applyAliases } from '../../../src/runtime/shared/aliases.js';

const aliases = { fetchImpl: 'fetch', defaultScope: 'scope' };

describe('applyAliases', () => {
  it('renames an alias to its option and keeps everything else', () => {
    const fetchImpl = () => Promise.resolve(new Response());
    expect(applyAliases({ issuer: 'x', fetchImpl, defaultScope: 'a b' }, aliases, 'f')).toEqual({
      issuer: 'x',
      fetch: fetchImpl,
      scope: 'a b',
    });
  });

  it('returns the same object when no alias is used', () => {
    const options = { issuer: 'x', scope: 'a' };
    expect(applyAliases(options, aliases, 'f')).toBe(options);
  });

  it('refuses an alias given together with its option', () => {
    expect(() =>
      applyAliases({ scope: 'a', defaultScope: 'b' }, aliases, 'createM2MClient'),
    ).toThrow(
      new TypeError(
        'createM2MClient: `defaultScope` is another name for `scope`; give one of them, not both',
      ),
    );
  });

  it('lets an undefined alias or option stand aside for the other', () => {
    expect(applyAliases({ scope: undefined, defaultScope: 'b' }, aliases, 'f')).toEqual({
      scope: 'b',
    });
    expect(applyAliases({ scope: 'a', defaultScope: undefined }, aliases, 'f')).toEqual({
      scope: 'a',
    });
  });
});
