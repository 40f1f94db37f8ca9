/**
 * s2s-auth: OAuth 2.0 service-to-service authentication, both sides.
 *
 * @packageDocumentation
 */
export * from './client.js';
export * from './server.js';
