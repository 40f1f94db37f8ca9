#!/usr/bin/env node
// Bundle size of two everyday jobs, done with s2s-auth and with the libraries people would use
// instead, measured the same way: esbuild, bundled with every dependency, minified, platform
// neutral (the WebCrypto + fetch build each package offers), ESM.
//
//   node scripts/size.mjs            measure, compare with size-budget.json, exit 1 over budget
//   node scripts/size.mjs --json     the same, as JSON on stdout (for the test)
//   node scripts/size.mjs --update   write the measured numbers into size-budget.json
//                                    (budgets are kept; a missing one is set to ours + 2%)
//
// s2s-auth is measured from dist/: run `npm run build` first.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, version as esbuildVersion } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const budgetPath = join(root, 'size-budget.json');

/** Each job: what it does, and the same work written against each library. */
const jobs = {
  'client-credentials-token': {
    description:
      'discover the token endpoint, get a client_credentials token with client_secret_basic, return the access token',
    ours: 's2s-auth/client',
    candidates: {
      's2s-auth/client': `
import { createAuthClient } from 's2s-auth/client';
export function job(issuer, clientId, clientSecret) {
  return createAuthClient({ issuer, clientId, clientSecret, scope: 'orders:read' }).getAccessToken();
}`,
      'openid-client': `
import * as client from 'openid-client';
export async function job(issuer, clientId, clientSecret) {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret);
  return (await client.clientCredentialsGrant(config, { scope: 'orders:read' })).access_token;
}`,
      oauth4webapi: `
import * as oauth from 'oauth4webapi';
export async function job(issuer, clientId, clientSecret) {
  const url = new URL(issuer);
  const as = await oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url));
  const client = { client_id: clientId };
  const response = await oauth.clientCredentialsGrantRequest(
    as, client, oauth.ClientSecretBasic(clientSecret), new URLSearchParams({ scope: 'orders:read' }));
  return (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
}`,
    },
  },
  'verify-jwt-remote-jwks': {
    description:
      'verify a JWT access token (signature, iss, aud, exp) against a remote JWKS fetched and cached by the library',
    ours: 's2s-auth/server',
    candidates: {
      's2s-auth/server': `
import { createResourceServer } from 's2s-auth/server';
export function job(issuer, jwksUri, audience, token) {
  return createResourceServer({ issuer, jwksUri, audience }).verifyToken(token);
}`,
      'aws-jwt-verify': `
import { JwtVerifier } from 'aws-jwt-verify';
export function job(issuer, jwksUri, audience, token) {
  return JwtVerifier.create({ issuer, jwksUri, audience }).verify(token);
}`,
      oauth4webapi: `
import { validateJwtAccessToken } from 'oauth4webapi';
export function job(issuer, jwks_uri, audience, token) {
  const request = new Request('https://api.example/', { headers: { authorization: 'Bearer ' + token } });
  return validateJwtAccessToken({ issuer, jwks_uri }, request, audience);
}`,
    },
    // openid-client is a client (relying party) library: it has no resource-server verification.
  },
};

async function measure(contents) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    // aws-jwt-verify picks its WebCrypto + fetch variant by the `browser` condition; the others
    // have one universal build.
    conditions: ['browser'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0].contents;
  return { minified: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

async function measureAll() {
  const out = {};
  for (const [name, job] of Object.entries(jobs)) {
    const sizes = {};
    for (const [candidate, code] of Object.entries(job.candidates))
      sizes[candidate] = await measure(code);
    out[name] = sizes;
  }
  return out;
}

async function versionOf(pkg) {
  const name = pkg.startsWith('s2s-auth') ? '.' : join('node_modules', pkg);
  return JSON.parse(await readFile(join(root, name, 'package.json'), 'utf8')).version;
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main() {
  if (!existsSync(join(root, 'dist', 'client.js'))) {
    console.error('size: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  const args = new Set(process.argv.slice(2));
  const measured = await measureAll();
  const recorded = existsSync(budgetPath)
    ? JSON.parse(await readFile(budgetPath, 'utf8'))
    : { jobs: {} };

  if (args.has('--update')) {
    const file = {
      $comment:
        'Written by `npm run size:update` (scripts/size.mjs). `budget` is the most minified bytes ours may take; `npm run size` fails above it. The peers are what the same job costs with each library.',
      goal: 'each budget below the smallest peer of its job; not reached yet (see `npm run size` for the ratio)',
      method: `esbuild ${esbuildVersion}: bundle with all dependencies, minify, platform neutral, format esm, conditions [browser]`,
      jobs: {},
    };
    for (const [name, sizes] of Object.entries(measured)) {
      const job = jobs[name];
      const versions = {};
      for (const candidate of Object.keys(sizes)) versions[candidate] = await versionOf(candidate);
      const ours = sizes[job.ours].minified;
      file.jobs[name] = {
        description: job.description,
        ours: job.ours,
        budget: recorded.jobs?.[name]?.budget ?? Math.ceil((ours * 1.02) / 1024) * 1024,
        measured: Object.fromEntries(
          Object.entries(sizes).map(([candidate, size]) => [
            candidate,
            { version: versions[candidate], ...size },
          ]),
        ),
      };
    }
    await writeFile(budgetPath, `${JSON.stringify(file, null, 2)}\n`);
  }

  const current = args.has('--update') ? JSON.parse(await readFile(budgetPath, 'utf8')) : recorded;
  const report = {};
  let over = false;
  for (const [name, sizes] of Object.entries(measured)) {
    const job = jobs[name];
    const budget = current.jobs?.[name]?.budget;
    const ours = sizes[job.ours].minified;
    const peers = Object.entries(sizes).filter(([candidate]) => candidate !== job.ours);
    const smallestPeer = Math.min(...peers.map(([, size]) => size.minified));
    const withinBudget = typeof budget === 'number' && ours <= budget;
    if (!withinBudget) over = true;
    report[name] = { ours: job.ours, budget, withinBudget, smallestPeer, sizes };
  }

  if (args.has('--json')) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    for (const [name, { ours, budget, withinBudget, smallestPeer, sizes }] of Object.entries(
      report,
    )) {
      console.log(`${name}: ${jobs[name].description}`);
      for (const [candidate, size] of Object.entries(sizes)) {
        console.log(
          `  ${candidate.padEnd(18)} ${kb(size.minified).padStart(10)} min  ${kb(size.gzip).padStart(9)} gzip`,
        );
      }
      const ratio = (sizes[ours].minified / smallestPeer).toFixed(1);
      console.log(
        `  budget for ${ours}: ${budget === undefined ? 'none' : kb(budget)} (${withinBudget ? 'within' : 'OVER'}); ${ratio}x the smallest peer\n`,
      );
    }
  }
  if (over) {
    console.error(
      'size: over budget (see above); make it smaller, or raise the budget in size-budget.json on purpose',
    );
    process.exit(1);
  }
}

await main();
