/** The operator console's build, made when missing or older than its sources (a fresh clone has none). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

export async function adminUiBuilt(): Promise<void> {
  const page = statSync(join(ROOT, 'dist/admin-ui/index.html'), { throwIfNoEntry: false });
  // It also bundles the viewer console's DOM helpers.
  if (page && page.mtimeMs >= Math.max(newest(join(ROOT, 'admin-ui')), newest(join(ROOT, 'console/src')))) return;
  await build({ configFile: join(ROOT, 'admin-ui/vite.config.ts'), logLevel: 'error' });
}
