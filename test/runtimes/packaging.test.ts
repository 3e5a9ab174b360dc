/**
 * The published entries, resolved through package.json `exports` the way each consumer does: Node
 * ESM and CommonJS (self-reference by package name, in fresh processes), and esbuild for the browser
 * and workerd conditions. Each entry differs only in how it obtains the WASM. Then the package as
 * published: `npm pack`'s tarball installed into fresh ESM, CommonJS and TypeScript (node16 and
 * bundler resolution) projects, each type-checked and run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { image } from '../helpers/fixtures.js';
import { ROOT } from './harness.js';

const RUN = `
  const chunks = [];
  process.stdin.on('data', (d) => chunks.push(d)).on('end', async () => {
    const variants = await lib.processUpload(new Uint8Array(Buffer.concat(chunks)), { key: 'p.jpg' });
    process.stdout.write(JSON.stringify(variants.map((v) => [v.key, v.width, v.height])));
  });`;

const EXPECTED = [
  ['resized/large/p.jpg', 320, 240], ['webp/large/p.webp', 320, 240],
  ['resized/medium/p.jpg', 320, 240], ['webp/medium/p.webp', 320, 240],
  ['resized/thumb/p.jpg', 150, 112], ['webp/thumb/p.webp', 150, 112], // 112.5 rounds half to even
];

function node(args: string[], script: string, cwd = ROOT): unknown {
  return JSON.parse(execFileSync(process.execPath, [...args, '-e', script], { cwd, input: image('320x240.jpg'), encoding: 'utf8' }));
}

/** Which dist file esbuild picks for `import 'imgpipe'` under the given conditions. */
async function resolvedEntry(platform: 'browser' | 'neutral', conditions: string[]): Promise<string[]> {
  const result = await build({
    stdin: { contents: "export * from 'imgpipe';", resolveDir: ROOT },
    bundle: true, write: false, metafile: true, format: 'esm', platform, conditions, mainFields: ['module', 'main'],
    external: ['*.wasm', '@jsquash/*', 'jpeg-js', 'omggif'], logLevel: 'silent',
  });
  return Object.keys(result.metafile!.inputs).filter((f) => /^dist\/(node|web|workerd|web\.standalone)\.js$/.test(f));
}

describe('package entries', () => {
  it('Node ESM import("imgpipe") reads its WASM from dist/wasm and runs the recipe', () => {
    expect(node(['--input-type=module'], `const lib = await import('imgpipe');${RUN}`)).toEqual(EXPECTED);
  });

  it('Node CommonJS require("imgpipe") does the same', () => {
    expect(node([], `const lib = require('imgpipe');${RUN}`)).toEqual(EXPECTED);
  });

  it('bundlers pick the entry by condition: browser -> dist/web.js, workerd -> dist/workerd.js', async () => {
    expect(await resolvedEntry('browser', [])).toEqual(['dist/web.js']);
    expect(await resolvedEntry('neutral', ['workerd', 'worker'])).toEqual(['dist/workerd.js']);
    expect(await resolvedEntry('neutral', ['worker'])).toEqual(['dist/web.js']);
  });
});

/**
 * What a consumer's code does with the installed package: the recipe on stdin's photo, with the
 * types checked where it is TypeScript (a wrong option must be an error, so the types are real).
 */
const CONSUMER_TS = `
import { readFileSync } from 'node:fs';
import { processUpload, thumbhash, type Variant } from 'imgpipe';
import { createUploadHandler } from 'imgpipe/adapters';

const bytes: Uint8Array = new Uint8Array(readFileSync(0));
// Never called: only the type checker looks at it.
const wrong = () =>
  // @ts-expect-error key is a string
  processUpload(bytes, { key: 1 });
void wrong;
const handler: (event: unknown) => Promise<unknown> = createUploadHandler({ sourcePrefix: 'uploads/' }).handler;
void handler;
void thumbhash;
processUpload(bytes, { key: 'p.jpg' }).then((variants: Variant[]) => {
  const rows: [string, number, number][] = variants.map((v) => [v.key, v.width, v.height]);
  process.stdout.write(JSON.stringify(rows));
});
`;

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

function tsProject(dir: string, type: 'module' | 'commonjs', compilerOptions: Record<string, unknown>): void {
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type }));
  writeFileSync(join(dir, 'index.ts'), CONSUMER_TS);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', strict: true, outDir: 'out', types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
      ...compilerOptions,
    },
    files: ['index.ts'],
  }));
}

describe('the packed tarball', () => {
  let dir: string;
  let files: string[];
  let manifest: { dependencies: Record<string, string> };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'imgpipe-tarball-'));
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { filename: string; files: { path: string }[] }[];
    files = packed.files.map((f) => f.path);
    // One install shared by the projects below it (Node and tsc look up the tree for node_modules).
    // Its dependencies come from npm's cache, which `npm ci` filled; the registry only for what is missing.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, packed.filename)], { cwd: dir, stdio: 'pipe' });
    manifest = JSON.parse(readFileSync(join(dir, 'node_modules/imgpipe/package.json'), 'utf8'));
    for (const [name, type] of [['esm', 'module'], ['cjs', 'commonjs']] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'package.json'), JSON.stringify({ private: true, type }));
    }
    tsProject(join(dir, 'ts-node16'), 'commonjs', { module: 'node16', moduleResolution: 'node16' });
    tsProject(join(dir, 'ts-bundler'), 'module', { module: 'ESNext', moduleResolution: 'bundler' });
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the licence, the README and the built files, and no source maps, sources or tests', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/node.js', 'dist/node.cjs', 'dist/node.d.ts', 'dist/node.d.cts', 'dist/cli.js']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => !/^(dist|examples\/preview)\/|^(LICENSE|README\.md|package\.json)$/.test(f))).toEqual([]);
    expect(readFileSync(join(dir, 'node_modules/imgpipe/LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
  });

  it('depends on what runs, not on what only builds or benchmarks', () => {
    expect(Object.keys(manifest.dependencies)).not.toEqual(expect.arrayContaining(['@jsquash/resize']));
    expect(Object.keys(manifest.dependencies)).not.toEqual(expect.arrayContaining(['@jsquash/png']));
    expect(manifest).toMatchObject({ license: 'Apache-2.0', repository: { url: expect.stringMatching(/^git\+https:/) }, homepage: expect.any(String), bugs: { url: expect.any(String) } });
  });

  it("links the README's images absolutely, so they show on the registry's page", () => {
    const readme = readFileSync(join(dir, 'node_modules/imgpipe/README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const src of images) expect(src).toMatch(/^https:\/\//);
  });

  it('runs in a fresh ESM project', () => {
    expect(node(['--input-type=module'], `const lib = await import('imgpipe');${RUN}`, join(dir, 'esm'))).toEqual(EXPECTED);
  });

  it('runs in a fresh CommonJS project', () => {
    expect(node([], `const lib = require('imgpipe');${RUN}`, join(dir, 'cjs'))).toEqual(EXPECTED);
  });

  it.each(['ts-node16', 'ts-bundler'])('type-checks and runs in a fresh TypeScript project (%s)', (name) => {
    const project = join(dir, name);
    let diagnostics = '';
    try {
      execFileSync(process.execPath, [TSC, '-p', project], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      diagnostics = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(diagnostics).toBe('');
    const out = execFileSync(process.execPath, [join(project, 'out/index.js')], { cwd: project, input: image('320x240.jpg'), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(EXPECTED);
  });
});
