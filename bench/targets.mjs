// The targets of the benchmark issue, evaluated on the reports of one run: every target is a
// ratio between contenders measured in the same process (or, for size and import time, a
// comparison with a peer measured the same way), never an absolute time.

const NODE = 's2s-auth, Node build';
const WEB = 's2s-auth, default build (WebCrypto)';
const PEERS = [
  'jose jwtVerify (local JWK set)',
  'fast-jwt createVerifier',
  'aws-jwt-verify (cached JWKS, verifySync)',
  'jsonwebtoken verify',
];

function comparisons(reports) {
  const byId = new Map();
  for (const report of reports)
    for (const comparison of report.comparisons) byId.set(comparison.id, comparison);
  return byId;
}

function ratio(comparison, name) {
  return comparison?.results.find((result) => result.name === name)?.ratio;
}

const fmt = (value) => (value === undefined ? '—' : value.toFixed(3));

/** @returns {{ target: string, measured: string, met: boolean | undefined, detail?: string }[]} */
export function evaluateTargets(reports) {
  const byId = comparisons(reports);
  const out = [];
  const add = (target, measured, met, detail) =>
    out.push({ target, measured, met, ...(detail ? { detail } : {}) });

  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    const c = byId.get(`verify-distinct-${alg}`);
    if (!c) continue;
    const ours = ratio(c, NODE);
    add(
      `verifyToken distinct ${alg}, Node build ≥ 0.90× floor`,
      fmt(ours),
      ours >= 0.9,
      ours < 0.9 ? `short by ${(((0.9 - ours) / 0.9) * 100).toFixed(1)}%` : undefined,
    );
    const peers = PEERS.map((name) => [name, ratio(c, name)]).filter(
      ([, value]) => value !== undefined,
    );
    const best = peers.reduce((a, b) => (b[1] > a[1] ? b : a));
    add(
      `verifyToken distinct ${alg}, Node build faster than every peer`,
      `${fmt(ours)} vs ${best[0]} ${fmt(best[1])}`,
      ours > best[1],
    );
    const web = ratio(c, WEB);
    const jose = ratio(c, 'jose jwtVerify (local JWK set)');
    add(
      `verifyToken distinct ${alg}, default build ≥ jose`,
      `${fmt(web)} vs ${fmt(jose)}`,
      web >= jose,
    );
  }
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    const c = byId.get(`verify-repeated-${alg}`);
    if (!c) continue;
    for (const build of [NODE, WEB]) {
      const ours = ratio(c, build);
      add(
        `verifyToken repeated ${alg}, ${build.replace('s2s-auth, ', '')} ≥ fast-jwt cached (1.00)`,
        fmt(ours),
        ours >= 1,
      );
    }
  }
  for (const scenario of ['default', 'string', 'array']) {
    const c = byId.get(`get-token-${scenario}`);
    if (!c) continue;
    for (const build of ['s2s-auth getToken, Node build', 's2s-auth getToken, default build']) {
      const ours = ratio(c, build);
      // Within 1.2× the floor's time: at least 1/1.2 of its speed.
      add(
        `getToken hit (${scenario}), ${build.replace('s2s-auth getToken, ', '')} within 1.2× floor (≥ 0.83)`,
        `${fmt(ours)} (${fmt(1 / ours)}× the time)`,
        ours >= 1 / 1.2,
      );
    }
  }
  for (const alg of ['EdDSA', 'ES256']) {
    const sign = byId.get(`dpop-sign-${alg}`);
    if (sign) {
      const ours = ratio(sign, 's2s-auth buildDpopProof, Node build');
      add(`buildDpopProof ${alg}, Node build ≥ 0.80× sign floor`, fmt(ours), ours >= 0.8);
    }
    for (const tokens of ['repeated', 'distinct']) {
      const c = byId.get(`dpop-verify-${tokens}-${alg}`);
      if (!c) continue;
      const ours = ratio(c, 's2s-auth verifyRequest, Node build');
      add(
        `verifyRequest DPoP ${alg} (${tokens} token), Node build ≥ 0.70× floor`,
        fmt(ours),
        ours >= 0.7,
      );
    }
  }
  for (const report of reports) {
    if (report.suite === 'bundle-size') {
      const sizes = report.measurements.sizes;
      const ours = Object.entries(sizes).find(([name]) => name.startsWith('s2s-auth'))?.[1];
      const peer = sizes['openid-client + jose'];
      const aim = sizes['oauth4webapi'];
      add(
        'bundle (gzip) smaller than openid-client + jose',
        `${(ours.gzip / 1000).toFixed(1)} KB vs ${(peer.gzip / 1000).toFixed(1)} KB (oauth4webapi ${(aim.gzip / 1000).toFixed(1)} KB)`,
        ours.gzip < peer.gzip,
        ours.gzip >= peer.gzip
          ? `${((ours.gzip / peer.gzip - 1) * 100).toFixed(0)}% larger`
          : undefined,
      );
    }
    if (report.suite === 'import-time') {
      const rows = report.measurements.modules;
      const ours =
        rows.find((row) => row.name === 's2s-auth (package, dist/)') ??
        rows.find((row) => row.name.startsWith('s2s-auth, Node build'));
      const peer = rows.find((row) => row.name === 'openid-client');
      add(
        'cold import: less added time than openid-client',
        `${ours.name}: +${ours.addedMs.toFixed(1)} ms (import ${ours.importMs.toFixed(1)} ms) vs +${peer.addedMs.toFixed(1)} ms (import ${peer.importMs.toFixed(1)} ms)`,
        ours.addedMs < peer.addedMs,
      );
    }
    if (report.suite === 'cold-get-token') {
      add(
        `cold: ${report.measurements.callers} concurrent getToken → one token request`,
        `${report.measurements.tokenRequestsPerConcurrentRun} request per run`,
        report.measurements.tokenRequestsPerConcurrentRun === 1,
      );
    }
  }
  return out;
}

export function printTargets(targets) {
  if (targets.length === 0) return;
  console.log('\n## Targets');
  const widths = [
    Math.max(6, ...targets.map((t) => t.target.length)),
    Math.max(8, ...targets.map((t) => t.measured.length)),
  ];
  console.log(`| ${'target'.padEnd(widths[0])} | ${'measured'.padEnd(widths[1])} | met |`);
  console.log(`|${'-'.repeat(widths[0] + 2)}|${'-'.repeat(widths[1] + 2)}|-----|`);
  for (const t of targets) {
    const met = t.met === undefined ? '?' : t.met ? 'yes' : `NO${t.detail ? ` (${t.detail})` : ''}`;
    console.log(`| ${t.target.padEnd(widths[0])} | ${t.measured.padEnd(widths[1])} | ${met} |`);
  }
}
