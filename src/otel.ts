/**
 * s2s-auth/otel: OpenTelemetry metrics and spans from the SDK's events. Needs the optional
 * peer `@opentelemetry/api`.
 *
 * @module s2s-auth/otel
 */
export { createOpenTelemetryObserver } from './runtime/observability/otel.js';
export type {
  OpenTelemetryObserver,
  OpenTelemetryObserverOptions,
} from './runtime/observability/otel.js';
