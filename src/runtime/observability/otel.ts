import { metrics, trace, type Attributes, type Meter, type Tracer } from '@opentelemetry/api';
import type { AuthClientEvent } from '../client/auth-client-events.js';
import type { ResourceServerEvent } from '../server/resource-server-events.js';
import { optionKeys, rejectUnknownOptions } from '../shared/options.js';

/** Options of {@link createOpenTelemetryObserver}. */
export interface OpenTelemetryObserverOptions {
  /** The meter to record on. Default: `metrics.getMeter('s2s-auth')`. */
  meter?: Meter | undefined;
  /** The tracer for token-request spans. Default: `trace.getTracer('s2s-auth')`. */
  tracer?: Tracer | undefined;
}

/** Every option of {@link OpenTelemetryObserverOptions}; the compiler keeps the list complete. */
const OBSERVER_OPTION_KEYS = optionKeys<OpenTelemetryObserverOptions>()(['meter', 'tracer']);

/** An `onEvent` listener for both `createAuthClient` and `createResourceServer`. */
export interface OpenTelemetryObserver {
  onEvent(event: AuthClientEvent | ResourceServerEvent): void;
}

/**
 * Turns the SDK's events into OpenTelemetry metrics and spans:
 *
 * | instrument | kind | attributes |
 * |---|---|---|
 * | `s2s_auth.client.cache` | counter | `result`: `hit` / `miss` |
 * | `s2s_auth.client.token.duration` | histogram (ms) | `token_type`, `refresh` |
 * | `s2s_auth.client.token.failures` | counter | `served_stale` |
 * | `s2s_auth.server.jwks.fetches` | counter | `reason`, `ok` |
 * | `s2s_auth.server.verification.failures` | counter | `reason`, `status` |
 *
 * Each token request also becomes an `s2s-auth token request` span. Attributes carry scopes
 * and resource indicators, never a token.
 *
 * @see https://opentelemetry.io/docs/specs/otel/metrics/api/
 * @example
 * ```ts
 * import { createOpenTelemetryObserver } from 's2s-auth/otel';
 *
 * const observer = createOpenTelemetryObserver();
 * const auth = createAuthClient({ issuer, clientId, clientSecret, onEvent: observer.onEvent });
 * const server = createResourceServer({ issuer, audience, onEvent: observer.onEvent });
 * ```
 */
export function createOpenTelemetryObserver(
  options: OpenTelemetryObserverOptions = {},
): OpenTelemetryObserver {
  rejectUnknownOptions(options, OBSERVER_OPTION_KEYS, 'createOpenTelemetryObserver');
  const meter = options.meter ?? metrics.getMeter('s2s-auth');
  const tracer = options.tracer ?? trace.getTracer('s2s-auth');
  const cache = meter.createCounter('s2s_auth.client.cache', {
    description: 'getToken calls by cache result',
  });
  const duration = meter.createHistogram('s2s_auth.client.token.duration', {
    description: 'Time to get a token from the authorization server, retries included',
    unit: 'ms',
  });
  const failures = meter.createCounter('s2s_auth.client.token.failures', {
    description: 'Token requests that failed',
  });
  const jwks = meter.createCounter('s2s_auth.server.jwks.fetches', {
    description: 'Key-set fetches',
  });
  const rejected = meter.createCounter('s2s_auth.server.verification.failures', {
    description: 'Tokens and requests refused, by reason',
  });

  function onEvent(event: AuthClientEvent | ResourceServerEvent): void {
    switch (event.type) {
      case 'cache_hit':
      case 'cache_miss':
        cache.add(1, { result: event.type === 'cache_hit' ? 'hit' : 'miss' });
        return;
      case 'token_fetched': {
        const attributes: Attributes = {
          token_type: event.tokenType,
          refresh: event.refresh,
          'oauth.scope': event.slot.scope,
          'oauth.resource': [...event.slot.resource],
        };
        duration.record(event.durationMs, { token_type: event.tokenType, refresh: event.refresh });
        const end = Date.now();
        tracer
          .startSpan('s2s-auth token request', { startTime: end - event.durationMs, attributes })
          .end(end);
        return;
      }
      case 'token_failed':
        failures.add(1, { served_stale: event.servedStale });
        return;
      case 'jwks_fetched':
        jwks.add(1, { reason: event.reason, ok: event.ok });
        return;
      case 'verification_failed':
        rejected.add(1, { reason: event.reason, status: event.status });
        return;
      default:
        return;
    }
  }

  return { onEvent };
}
