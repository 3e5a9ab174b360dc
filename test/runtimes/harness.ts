/**
 * Shared plumbing for the runtime tests: a static HTTP server on 127.0.0.1 (image origin and page
 * host), the Worker example running in real workerd through miniflare, and SHA-256 manifests.
 */
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Miniflare } from 'miniflare';
import { buildWorker } from '../../examples/worker/build.mjs';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.png': 'image/png', '.webp': 'image/webp', '.gif': 'image/gif', '.map': 'application/json',
};

export interface StaticServer { readonly url: string; close(): Promise<void> }

/** Serve `mounts` (URL prefix -> directory) read-only; anything else is 404. */
export async function serveStatic(mounts: Readonly<Record<string, string>>): Promise<StaticServer> {
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(normalize(dir + sep)) && file !== normalize(dir)) break;
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, etag: `"${createHash('sha1').update(body).digest('hex')}"` });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      } catch { break; }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Build examples/worker and start it in workerd with ORIGIN bound to `origin`. */
export async function startWorker(origin: string): Promise<Miniflare> {
  const { script, outdir } = await buildWorker(mkdtempSync(join(tmpdir(), 'imgpipe-worker-')));
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: outdir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01',
    bindings: { ORIGIN: origin },
  });
  await mf.ready;
  return mf;
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface ManifestEntry { key: string; size: string; format: string; width: number; height: number; bytes: number; sha256: string }

export const ROOT = new URL('../../', import.meta.url).pathname;

/** The fixture every runtime test uploads, and the recipe's variants for it: key, width, height. */
export const PHOTO = '2569067123_aca715a2ee_o.jpg'; // 2725x2225
export const PHOTO_VARIANTS: readonly (readonly [string, number, number])[] = Object.freeze([
  ['resized/large/2569067123_aca715a2ee_o.jpg', 1200, 980],
  ['webp/large/2569067123_aca715a2ee_o.webp', 1200, 980],
  ['resized/medium/2569067123_aca715a2ee_o.jpg', 600, 490],
  ['webp/medium/2569067123_aca715a2ee_o.webp', 600, 490],
  ['resized/thumb/2569067123_aca715a2ee_o.jpg', 150, 122],
  ['webp/thumb/2569067123_aca715a2ee_o.webp', 150, 122],
]);
