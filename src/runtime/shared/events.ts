/**
 * Calls an event listener without letting it break the call that emitted the event: a
 * throwing or rejecting listener is ignored.
 */
export function emitter<E>(
  listener: ((event: E) => unknown) | undefined,
): ((event: E) => void) | undefined {
  if (listener === undefined) return undefined;
  if (typeof listener !== 'function') throw new TypeError('`onEvent` must be a function');
  return (event) => {
    try {
      // A listener may be async.
      const result = listener(event);
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // Observability must never cost the caller its token.
    }
  };
}
