/**
 * What both deployable functions (index.ts: the upload recipe; serve.ts: x-oss-process over HTTP) read
 * at start-up: the optional plug-in layers and their settings, checked when the code loads so a typo
 * fails the deployment, not the first request.
 */
import { createRequire } from 'node:module';
import { MAX_POOL_THREADS, ImgpipeError, describeValue } from 'imgpipe';

/**
 * The opt-in plug-ins' layers (imgpipe-heic-layer.zip, imgpipe-avif-layer.zip; FC puts a layer's
 * nodejs/node_modules on the module search path): attaching one is all it takes. Only a layer's
 * absence is ignored (a broken layer fails the start-up). Without the HEIC layer an iPhone's upload
 * is a permanent failure whose error says how to enable it.
 */
export function loadPluginLayers(from: string): void {
  for (const name of ['imgpipe-heic', 'imgpipe-avif']) {
    try {
      createRequire(from)(name);
    } catch (e) {
      const missing = (e as { code?: string }).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(`'${name}'`);
      if (!missing) throw e;
    }
  }
}

/** A whole number setting between 1 and MAX_POOL_THREADS (IMGPIPE_THREADS), or `fallback` when unset. */
export function threadsSetting(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_POOL_THREADS) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${MAX_POOL_THREADS} for IMGPIPE_THREADS but received ${describeValue(value)}`);
  }
  return Number(value);
}
