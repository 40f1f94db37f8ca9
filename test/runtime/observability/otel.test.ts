import type { Attributes, Meter, Span, Tracer } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createAuthClient } from '../../../src/client.js';
import { createOpenTelemetryObserver } from '../../../src/otel.js';
import { fakeFetch, json } from '../fake-fetch.js';

/** A meter and tracer that remember what was recorded. */
function recorder() {
  const records: { name: string; value: number; attributes: Attributes | undefined }[] = [];
  const spans: { name: string; attributes: Attributes | undefined; ended: boolean }[] = [];
  const instrument = (name: string) => ({
    add: (value: number, attributes?: Attributes) => records.push({ name, value, attributes }),
    record: (value: number, attributes?: Attributes) => records.push({ name, value, attributes }),
  });
  const meter = {
    createCounter: instrument,
    createHistogram: instrument,
  } as unknown as Meter;
  const tracer = {
    startSpan(name: string, options?: { attributes?: Attributes }) {
      const span = { name, attributes: options?.attributes, ended: false };
      spans.push(span);
      return { end: () => (span.ended = true) } as unknown as Span;
    },
  } as unknown as Tracer;
  return { meter, tracer, records, spans };
}

describe('createOpenTelemetryObserver', () => {
  it('records cache results, token request time and a span per token request, without the token', async () => {
    const { meter, tracer, records, spans } = recorder();
    const observer = createOpenTelemetryObserver({ meter, tracer });
    const fetch = fakeFetch(() =>
      json({ access_token: 'secret-token-value', token_type: 'Bearer', expires_in: 60 }),
    );
    const auth = createAuthClient({
      tokenEndpoint: 'https://idp.example.test/token',
      clientId: 'c',
      clientSecret: 's',
      scope: 'orders:read',
      fetch,
      onEvent: observer.onEvent,
    });
    await auth.getToken();
    await auth.getToken();
    expect(
      records.filter((r) => r.name === 's2s_auth.client.cache').map((r) => r.attributes?.result),
    ).toEqual(['miss', 'hit']);
    expect(records.find((r) => r.name === 's2s_auth.client.token.duration')).toMatchObject({
      attributes: { token_type: 'Bearer', refresh: 'none' },
    });
    expect(spans).toEqual([
      expect.objectContaining({
        name: 's2s-auth token request',
        ended: true,
        attributes: expect.objectContaining({ 'oauth.scope': 'orders:read' }),
      }),
    ]);
    expect(JSON.stringify({ records, spans })).not.toContain('secret-token-value');
  });

  it('counts failed token requests and resource-server events by reason', () => {
    const { meter, tracer, records } = recorder();
    const { onEvent } = createOpenTelemetryObserver({ meter, tracer });
    onEvent({
      type: 'token_failed',
      slot: { scope: '', resource: [] },
      error: new Error('x'),
      servedStale: true,
    });
    onEvent({ type: 'verification_failed', reason: 'expired', status: 401 });
    onEvent({ type: 'jwks_fetched', reason: 'unknown_kid', ok: false });
    expect(records.map((r) => [r.name, r.attributes])).toEqual([
      ['s2s_auth.client.token.failures', { served_stale: true }],
      ['s2s_auth.server.verification.failures', { reason: 'expired', status: 401 }],
      ['s2s_auth.server.jwks.fetches', { reason: 'unknown_kid', ok: false }],
    ]);
  });

  it('falls back to the global (no-op) meter and tracer', async () => {
    const { onEvent } = createOpenTelemetryObserver();
    expect(() => onEvent({ type: 'cache_hit', slot: { scope: '', resource: [] } })).not.toThrow();
  });
});
