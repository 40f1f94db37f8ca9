/**
 * s2s-auth: OAuth 2.0 service-to-service authentication, both sides.
 *
 * @module s2s-auth
 */
export * from './client.js';
export * from './server.js';
