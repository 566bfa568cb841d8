/**
 * The operator console (`admin-ui/`, built into `dist/admin-ui` by `npm run build:admin-ui`),
 * served under `/admin/ui/` as the viewer console is under `/console/`: the same file rules,
 * content security policy and caching (`server/console-route.ts`). The page itself is public;
 * everything it shows comes from the admin API with the token the person signs in with.
 */
import { fileURLToPath } from 'node:url';
import { consoleRoute } from '../server/console-route.js';

export const ADMIN_UI_PREFIX = '/admin/ui';

// Two levels up is the project root both from src/operator and from dist/operator.
const BUILT_ADMIN_UI = fileURLToPath(new URL('../../dist/admin-ui', import.meta.url));

export function isAdminUiPath(path: string): boolean {
  return path === ADMIN_UI_PREFIX || path.startsWith(`${ADMIN_UI_PREFIX}/`);
}

export function adminUiRoute(root: string = BUILT_ADMIN_UI) {
  return consoleRoute(root, ADMIN_UI_PREFIX, 'npm run build:admin-ui');
}
