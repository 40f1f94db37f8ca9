/**
 * Runs the conformance suite inside workerd as a module worker. The orchestrator bundles this
 * file with esbuild, starts it with miniflare, binds the configuration as `S2S_CONFORMANCE`
 * and sends one request; the answer is the suite's output, one line per check.
 */
import { runConformance } from './conformance.mjs';

export default {
  async fetch(_request, env) {
    const lines = [];
    const config = { ...JSON.parse(env.S2S_CONFORMANCE) };
    const { failed } = await runConformance(config, (line) => lines.push(line));
    return new Response(`${lines.join('\n')}\n`, {
      status: failed === 0 ? 200 : 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  },
};
