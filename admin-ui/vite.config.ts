/** Builds the operator console into dist/admin-ui, served by onair under /admin/ui/ (with ADMIN_TOKEN). */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  // Resolved from this file, so the build works from any working directory.
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/ui/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/admin-ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
