/**
 * The adapters' boundaries: they reach the core only through its public surface (src/index.ts, or a
 * runtime entry that re-exports it), and the runtime-neutral subpaths (imgpipe/http, imgpipe/events)
 * pull in no Node built-in and neither ali-oss nor cloudevents, so a browser or workerd bundle never
 * carries them. The packed package is checked in workerd and Vite by test/runtimes/subpaths.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../runtimes/harness.js';

/** Every TypeScript file under adapters/, relative to the repository. */
function adapterFiles(dir = join(ROOT, 'adapters')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? adapterFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(ROOT, join(dir, e.name))] : []);
}

/** What a bundle of `entry` for the browser reads: its input files, and the packages and built-ins it asks for. */
async function browserInputs(entry: string): Promise<{ inputs: string[]; builtins: string[] }> {
  const builtins: string[] = [];
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    metafile: true,
    logLevel: 'silent',
    plugins: [{
      name: 'record-builtins',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          const bare = args.path.replace(/^node:/, '');
          if (args.path.startsWith('node:') || builtinModules.includes(bare)) {
            builtins.push(args.path);
            return { path: args.path, external: true };
          }
          return undefined;
        });
      },
    }],
  });
  return { inputs: Object.keys(result.metafile.inputs), builtins };
}

describe('adapters', () => {
  it('import the core only through its public surface', () => {
    const deep: string[] = [];
    for (const file of adapterFiles()) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/from '((?:\.\.\/)+(?:src|pool|entries)\/[^']+)'/g)) {
        if (!/(?:\.\.\/)+(?:src\/index|entries\/node|pool\/index)\.js$/.test(m[1])) deep.push(`${file}: ${m[1]}`);
      }
    }
    expect(deep).toEqual([]);
  });

  it.each(['adapters/http/index.ts', 'adapters/events/index.ts'])('%s bundles for the browser without Node built-ins, ali-oss or cloudevents', async (entry) => {
    const { inputs, builtins } = await browserInputs(entry);
    expect(builtins).toEqual([]);
    expect(inputs.filter((f) => /node_modules\/(ali-oss|cloudevents)\//.test(f))).toEqual([]);
    // The subpath is what it says: the adapter's own files and the core.
    expect(inputs.some((f) => f.startsWith(entry.replace(/index\.ts$/, '')))).toBe(true);
  });

  it('the Node adapters do need what the neutral ones leave out (the check above can fail)', async () => {
    const { inputs, builtins } = await browserInputs('adapters/fc/index.ts');
    expect(builtins.length).toBeGreaterThan(0);
    expect(inputs.some((f) => /node_modules\/cloudevents\//.test(f))).toBe(true);
  });
});
