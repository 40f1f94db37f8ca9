/**
 * A profiling target, not a comparison: the Node build's verifyToken on distinct RS256 tokens
 * (the tightest target). The CPU profile covers only the verification loop (tokens are signed
 * before it starts), so it shows where the time beyond `crypto.verify` goes. Run with
 * `node bench/profile.mjs verify-token`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import {
  AUDIENCE,
  ISSUER,
  JWKS_URI,
  accessToken,
  loadBuilds,
  makeKey,
  memoryIdp,
} from '../lib/fixtures.js';

const TOKENS = Number(process.env.S2S_PROFILE_TOKENS ?? 20_000);

const builds = await loadBuilds();
const key = await makeKey('RS256');
const server = builds.node.createResourceServer({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUri: JWKS_URI,
  fetch: memoryIdp([key]).fetch,
});
const tokens = Array.from({ length: TOKENS }, () => accessToken(key));
await server.verifyToken(accessToken(key));

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
await session.post('Profiler.start');
const started = performance.now();
for (const token of tokens) await server.verifyToken(token);
const elapsed = performance.now() - started;
const { profile } = await session.post('Profiler.stop');
session.disconnect();
const out = process.env.S2S_PROFILE_OUT;
if (out) writeFileSync(out, JSON.stringify(profile));
console.log(
  `${tokens.length} distinct RS256 tokens, ${((elapsed / tokens.length) * 1000).toFixed(1)} µs each`,
);
