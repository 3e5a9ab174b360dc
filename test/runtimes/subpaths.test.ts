/**
 * `import { createFetchHandler } from 'imgpipe/http'` from the packed tarball, as an app gets it: the
 * tarball (`npm pack`) is unpacked into a fresh project's node_modules/imgpipe and its dependencies
 * are linked from this repository's node_modules (what an offline install of the same lockfile gives;
 * no registry, so it works on CI's clean clone). Then
 *   (a) a Worker importing only `imgpipe/http` is bundled under the `workerd` condition and serves
 *       an x-oss-process transform in workerd (miniflare);
 *   (b) Vite builds a browser app importing `imgpipe/http` with no configuration, and nothing in it
 *       is a Node built-in, ali-oss or cloudevents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import sharp from 'sharp';
import { IMAGES } from '../helpers/fixtures.js';
import { ROOT, serveStatic, type StaticServer } from './harness.js';
import { workerBundleOptions } from '../../examples/worker/build.mjs';

let app: string;
let origin: StaticServer;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'imgpipe-subpaths-'));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', app], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { filename: string }[];
  const pkg = join(app, 'node_modules/imgpipe');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', join(app, packed.filename), '-C', pkg, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(manifest.dependencies)) {
    mkdirSync(dirname(join(app, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  origin = await serveStatic({ '/': IMAGES });
}, 300_000);
afterAll(async () => {
  await origin?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

const WORKER = `import { createFetchHandler, fetchSource } from 'imgpipe/http';

let handler;
export default {
  fetch(request, env) {
    handler ??= createFetchHandler({ source: fetchSource(env.ORIGIN) });
    return handler(request);
  },
};
`;

describe('imgpipe/http from the packed tarball', () => {
  it('(a) serves a transform in workerd, imported alone', async () => {
    const dir = join(app, 'worker');
    mkdirSync(join(dir, 'dist/wasm'), { recursive: true });
    writeFileSync(join(dir, 'worker.js'), WORKER);
    const wasm: string[] = [];
    await build(workerBundleOptions({ entry: join(dir, 'worker.js'), outfile: join(dir, 'dist/worker.js'), onWasm: (f) => wasm.push(f), logLevel: 'silent' }));
    for (const file of new Set(wasm)) copyFileSync(file, join(dir, 'dist/wasm', basename(file)));
    // Only the core's modules: the plug-ins' stay out of an app that does not import them.
    expect([...new Set(wasm.map((f) => basename(f)))].sort()).toEqual(readdirSync(join(app, 'node_modules/imgpipe/dist/wasm')).filter((f) => f.endsWith('.wasm')).sort());
    const bundle = readFileSync(join(dir, 'dist/worker.js'), 'utf8');
    expect(bundle).not.toMatch(/ali-oss|cloudevents/);
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(dir, 'dist/worker.js'),
      modulesRoot: join(dir, 'dist'),
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2025-01-01',
      bindings: { ORIGIN: origin.url },
    });
    try {
      const res = await mf.dispatchFetch('http://imgpipe.example/320x240.jpg?x-oss-process=image/resize,w_100/format,webp');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(new Uint8Array(await res.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 100, 75]);
    } finally {
      await mf.dispose();
    }
  });

  it('(b) bundles for the browser with Vite, without Node built-ins, ali-oss or cloudevents', async () => {
    const dir = join(app, 'vite');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><script type="module" src="./main.js"></script>\n');
    writeFileSync(join(dir, 'main.js'), `import { createFetchHandler, fetchSource } from 'imgpipe/http';\nglobalThis.handler = createFetchHandler({ source: fetchSource(location.origin) });\n`);
    const { build: viteBuild } = await import('vite');
    const builtins: string[] = [];
    const modules: string[] = [];
    await viteBuild({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      build: { outDir: join(dir, 'dist'), emptyOutDir: true },
      plugins: [{
        name: 'record',
        enforce: 'pre',
        resolveId(id) {
          if (id.startsWith('node:') || builtinModules.includes(id)) builtins.push(id);
          return null;
        },
        moduleParsed(info) {
          modules.push(info.id);
        },
      }],
    });
    expect(builtins).toEqual([]);
    expect(modules.filter((m) => /node_modules\/(ali-oss|cloudevents)\//.test(m))).toEqual([]);
    // It is the packed package that was bundled, its browser entry.
    expect(modules.some((m) => m.includes('node_modules/imgpipe/dist/http.web.js'))).toBe(true);
    const assets = readdirSync(join(dir, 'dist/assets'));
    expect(assets.some((f) => f.endsWith('.js'))).toBe(true);
    expect(assets.some((f) => f.endsWith('.wasm'))).toBe(true);
  });
});
