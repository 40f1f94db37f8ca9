import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    client: 'src/client.ts',
    server: 'src/server.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // Shared chunks keep `s2s-auth/server` free of client code and the other way round.
  splitting: true,
  treeshake: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['jose', 'zod', 'openapi-fetch'],
});
