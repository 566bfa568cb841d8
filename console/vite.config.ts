/** Builds the web console into dist/console, served by onair under /console/. */
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  // Resolved from this file, so the build works from any working directory.
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  // @onair/client from its sources (its exports map's "@onair/source"): the console's build needs
  // no build of the package first.
  resolve: { conditions: ['@onair/source', ...defaultClientConditions] },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
