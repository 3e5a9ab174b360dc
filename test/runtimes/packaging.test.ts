/**
 * The published entries, resolved through package.json `exports` the way each consumer does: Node
 * ESM and CommonJS (self-reference by package name, in fresh processes), and esbuild for the browser
 * and workerd conditions. Each entry differs only in how it obtains the WASM.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
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

function node(args: string[], script: string): unknown {
  return JSON.parse(execFileSync(process.execPath, [...args, '-e', script], { cwd: ROOT, input: image('320x240.jpg'), encoding: 'utf8' }));
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
