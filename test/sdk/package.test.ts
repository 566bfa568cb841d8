/**
 * @onair/client as an app developer gets it: `npm pack`, installed alone into an empty project
 * (from npm's cache, no network but the registry), the README's example run there by plain Node
 * against a real server over TLS; the bundle it makes, minified and gzipped, held to a budget;
 * and the protocol copies inside it held to the server's src/protocol.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Rollup } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = join(ROOT, 'packages/client');
const PROTOCOL_MODULES = ['errors', 'events', 'programs', 'text'];

/** Minified + gzipped bytes, the SDK alone (socket.io-client left out, as an app has it anyway)
 * and with socket.io-client; figures written in docs/sdk.md. */
const BUDGET = { sdk: 12_000, withSocketIo: 28_000 };

let project: string;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'onair-sdk-app-'));
  // What prepack does, less the protocol sync: a test must not rewrite the copies it checks below.
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(PKG, 'tsconfig.build.json')]);
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], { cwd: PKG });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', join(project, filename)], { cwd: project });
}, 180_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('@onair/client installed alone', () => {
  it('brings socket.io-client and nothing of the server', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/@onair/client/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: '@onair/client', version: '0.1.0', type: 'module', sideEffects: false });
    expect(Object.keys(manifest.dependencies as object)).toEqual(['socket.io-client']);
    expect(manifest.peerDependencies).toBeUndefined();
    const installed = readdirSync(join(project, 'node_modules'));
    for (const serverOnly of ['zod', 'better-sqlite3', 'pg', 'redis', 'socket.io', 'pino', 'jose']) expect(installed).not.toContain(serverOnly);
    expect(existsSync(join(project, 'node_modules/@onair/client/dist/index.d.ts'))).toBe(true);
  });

  it("runs the README's example against a real server", async () => {
    const server = await startServer();
    const readme = readFileSync(join(PKG, 'README.md'), 'utf8');
    const example = readme.match(/```js\n([\s\S]*?)```/)?.[1];
    expect(example).toContain("from '@onair/client'");
    writeFileSync(join(project, 'example.mjs'), example!);
    writeFileSync(join(project, 'ca.pem'), server.ca!);
    const { stdout } = await run(process.execPath, ['example.mjs'], {
      cwd: project,
      env: { ...process.env, ONAIR_URL: server.url, ONAIR_CA: join(project, 'ca.pem') },
      timeout: 20_000,
    });
    expect(stdout).toMatch(/^1 rooms, in [\w-]+$/m);
    expect(stdout).toMatch(/^refused: EA004$/m);
    expect(stdout).toMatch(/^room [\w-]+: hello; aggro at 0$/m);
  });

  it('bundles small (minified + gzip) and without Node modules', async () => {
    const sizes = { sdk: await bundled(true), withSocketIo: await bundled(false) };
    console.log(`@onair/client min+gzip: ${sizes.sdk} B alone, ${sizes.withSocketIo} B with socket.io-client`);
    expect(sizes.sdk).toBeLessThanOrEqual(BUDGET.sdk);
    expect(sizes.withSocketIo).toBeLessThanOrEqual(BUDGET.withSocketIo);
  });
});

/** The whole public API, bundled for browsers from the installed package. */
async function bundled(externalSocketIo: boolean): Promise<number> {
  writeFileSync(join(project, 'entry.js'), "export * from '@onair/client';\n");
  const out = (await build({
    configFile: false,
    root: project,
    logLevel: 'silent',
    build: {
      write: false,
      minify: true,
      lib: { entry: join(project, 'entry.js'), formats: ['es'], fileName: 'sdk' },
      rollupOptions: { external: externalSocketIo ? [/^socket\.io-client/, /^engine\.io-client/, /^socket\.io-parser/] : [] },
    },
  })) as Rollup.RollupOutput[] | Rollup.RollupOutput;
  const code = (Array.isArray(out) ? out[0]! : out).output[0].code;
  expect(code).not.toMatch(/from ["']node:|require\(["']node:/);
  return gzipSync(code, { level: 9 }).length;
}

describe('the protocol inside the package', () => {
  it.each(PROTOCOL_MODULES)('packages/client/src/protocol/%s.ts is its source under the generated header', (name) => {
    const copy = readFileSync(join(PKG, `src/protocol/${name}.ts`), 'utf8');
    const source = readFileSync(join(ROOT, `src/protocol/${name}.ts`), 'utf8');
    const [header, ...rest] = copy.split('\n');
    expect(header).toMatch(/^\/\/ GENERATED from src\/protocol\/.+ do not edit/);
    expect(rest.join('\n'), `run npm run sync:protocol`).toBe(source);
  });

  it('carries no schema library: the copies import nothing but each other', () => {
    for (const name of PROTOCOL_MODULES) {
      const copy = readFileSync(join(PKG, `src/protocol/${name}.ts`), 'utf8');
      for (const [, spec] of copy.matchAll(/from\s+['"]([^'"]+)['"]/g)) expect(spec).toMatch(/^\.\/(errors|events|programs|text)\.js$/);
    }
  });

  it('the sync script finds no drift (its --check)', async () => {
    await expect(run(process.execPath, [join(ROOT, 'scripts/sync-protocol.mjs'), '--check'])).resolves.toBeDefined();
  });
});
