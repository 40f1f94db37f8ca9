/**
 * `tokenTarget` remembers what it worked out for the options as given, because `getToken` runs
 * on every outbound call. Remembering must never change an answer: equal inputs share a
 * target, different ones never do, and invalid input is refused every time.
 */
import { describe, expect, it } from 'vitest';
import { tokenTarget } from '../../../src/runtime/client/cache-key.js';

describe('tokenTarget, asked again', () => {
  it('returns one frozen target for the same options', () => {
    const first = tokenTarget('b a', 'https://orders.example/', 't');
    expect(tokenTarget('b a', 'https://orders.example/', 't')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.scopes)).toBe(true);
    expect(Object.isFrozen(first.resources)).toBe(true);
    expect(first.scopes).toEqual(['a', 'b']);
  });

  it('gives every spelling of one scope set and resource set the same key', () => {
    const key = tokenTarget('a b', ['https://x.example/'], 't').key;
    for (const [scope, resource] of [
      [['b', 'a'], 'https://x.example/'],
      [['a b'], ['https://x.example/']],
      ['b  a a', ['https://x.example/', 'https://x.example/']],
    ] as const) {
      expect(tokenTarget(scope, resource, 't').key).toBe(key);
    }
    expect(tokenTarget(undefined, [], 't').key).toBe(tokenTarget('', undefined, 't').key);
    expect(tokenTarget([], undefined, 't').key).toBe(tokenTarget(undefined, undefined, 't').key);
  });

  it('keeps different resource lists apart, however they are split', () => {
    const two = tokenTarget('a', ['https://x.example/', 'https://y.example/'], 't');
    const sorted = tokenTarget('a', ['https://y.example/', 'https://x.example/'], 't');
    expect(sorted.key).toBe(two.key);
    expect(tokenTarget('a', ['https://x.example/'], 't').key).not.toBe(two.key);
    expect(tokenTarget('a', 'https://y.example/', 't').key).not.toBe(two.key);
  });

  it('refuses a resource with whitespace, which would make two resource sets share a key', () => {
    expect(() => tokenTarget('a', 'https://x.example/ https://y.example/', 't')).toThrow(TypeError);
    expect(() => tokenTarget('a', ['https://x.example/\nhttps://y.example/'], 't')).toThrow(
      TypeError,
    );
    expect(() => tokenTarget('a', ['https://x.example/\t'], 't')).toThrow(TypeError);
  });

  it('refuses invalid input every time, even when it looks like remembered input', () => {
    tokenTarget('a', ['https://x.example/', 'https://y.example/'], 't');
    const lookalike = [{ toJSON: () => 'https://x.example/' }, 'https://y.example/'];
    expect(() => tokenTarget('a', lookalike as unknown as string[], 't')).toThrow(TypeError);
    tokenTarget('a', undefined, 't');
    for (let i = 0; i < 2; i++) {
      expect(() => tokenTarget(['a', 1 as unknown as string], undefined, 't')).toThrow(TypeError);
      expect(() => tokenTarget('a"b', undefined, 't')).toThrow(TypeError);
      expect(() => tokenTarget('a', '/relative', 't')).toThrow(TypeError);
      expect(() => tokenTarget('a', [1 as unknown as string], 't')).toThrow(TypeError);
    }
  });

  it('stays right past its bound', () => {
    for (let i = 0; i < 1000; i++) {
      const target = tokenTarget(`s${i} common`, `https://r${i % 7}.example/`, 't');
      expect(target.scopes).toEqual([`s${i}`, 'common'].sort());
      expect(target.resources).toEqual([`https://r${i % 7}.example/`]);
    }
  });
});
