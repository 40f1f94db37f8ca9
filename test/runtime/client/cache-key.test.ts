import { describe, expect, it } from 'vitest';
import {
  normaliseResources,
  normaliseScopes,
  tokenTarget,
} from '../../../src/runtime/client/cache-key.js';

describe('cache key', () => {
  it('gives "a b" and ["b", "a"] the same key', () => {
    expect(tokenTarget('a b', undefined, 't').key).toBe(
      tokenTarget(['b', 'a'], undefined, 't').key,
    );
  });

  it('sorts and de-duplicates scopes, ignoring repeated spaces', () => {
    expect(normaliseScopes('  b a  a ', 't')).toEqual(['a', 'b']);
    expect(normaliseScopes(['b c', 'a'], 't')).toEqual(['a', 'b', 'c']);
  });

  it('keeps different scope sets and different resources apart', () => {
    const keys = new Set([
      tokenTarget('a', undefined, 't').key,
      tokenTarget('a b', undefined, 't').key,
      tokenTarget('a', 'https://x.example/', 't').key,
      tokenTarget('a', 'https://y.example/', 't').key,
      tokenTarget(undefined, 'https://x.example/', 't').key,
    ]);
    expect(keys.size).toBe(5);
  });

  it('sorts and de-duplicates resources', () => {
    expect(
      normaliseResources(['https://b.example/', 'https://a.example/', 'https://b.example/'], 't'),
    ).toEqual(['https://a.example/', 'https://b.example/']);
  });

  it('does not let a scope that contains a newline collide with a resource', () => {
    expect(() => normaliseScopes('a\nb', 't')).toThrow(TypeError);
  });

  it('rejects scope tokens with characters RFC 6749 §3.3 forbids', () => {
    expect(() => normaliseScopes('a"b', 't')).toThrow(TypeError);
    expect(() => normaliseScopes('a\\b', 't')).toThrow(TypeError);
    expect(() => normaliseScopes([1 as unknown as string], 't')).toThrow(TypeError);
  });

  it('rejects resources that are relative or carry a fragment (RFC 8707 §2)', () => {
    expect(() => normaliseResources('/orders', 't')).toThrow(TypeError);
    expect(() => normaliseResources('https://orders.example/#x', 't')).toThrow(TypeError);
    expect(() => normaliseResources('https://orders.example/#', 't')).toThrow(TypeError);
  });
});
