/**
 * Runs the conformance suite on a runtime with a command line: Node, Bun or Deno.
 * The orchestrator passes the configuration as JSON in `S2S_CONFORMANCE`; the exit code is 0
 * only when every check passed.
 */
import { runConformance } from './conformance.mjs';

// Deno: reading one variable needs only --allow-env=S2S_CONFORMANCE.
const raw = globalThis.Deno
  ? globalThis.Deno.env.get('S2S_CONFORMANCE')
  : globalThis.process.env.S2S_CONFORMANCE;
if (!raw) {
  console.error('S2S_CONFORMANCE is not set: run this through test/runtimes/matrix.test.ts');
  exit(2);
}
const config = JSON.parse(raw);
const { failed } = await runConformance(config, (line) => console.log(line));
exit(failed === 0 ? 0 : 1);

function exit(code) {
  if (globalThis.Deno) globalThis.Deno.exit(code);
  else globalThis.process.exit(code);
}
