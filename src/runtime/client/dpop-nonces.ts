import { setBounded } from '../shared/bounded-map.js';

/** Nonces remembered per origin; servers rotate them, so a few dozen origins are plenty. */
const maxRememberedNonces = 64;

/**
 * The DPoP nonces servers handed out (RFC 9449 §8, §9), by origin: the last one each origin
 * sent goes into the next proof for it. Bounded: past the limit the least recently set goes.
 */
export interface DpopNonces {
  /** The nonce `origin` asked for last, if any. */
  get(origin: string): string | undefined;
  /** Keeps the `DPoP-Nonce` of `response`, an answer from `url`, when it has one. */
  remember(url: string, response: Response): void;
}

export function createDpopNonces(): DpopNonces {
  const nonces = new Map<string, string>();
  return {
    get: (origin) => nonces.get(origin),
    remember(url, response) {
      const nonce = response.headers.get('dpop-nonce');
      if (!nonce) return;
      const { origin } = new URL(url);
      setBounded(nonces, origin, nonce, maxRememberedNonces);
    },
  };
}
