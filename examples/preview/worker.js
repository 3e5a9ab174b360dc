/**
 * The preview's Web Worker: all decoding, resizing and encoding happens here so the page stays
 * responsive. It loads the package's self-contained browser build (dist/web.standalone.js: no
 * bundler or import map needed), which fetches its .wasm files from dist/wasm/ beside itself.
 *
 * Messages in:  { id, type: 'recipe', name, bytes } | { id, type: 'process', name, bytes, process }
 * Messages out: { id, type: 'progress', stage } | { id, type: 'done', ... } | { id, type: 'error', code, message }
 *               and once at start { type: 'ready', transform: boolean }
 */
import * as imgpipe from '../../dist/web.standalone.js';
// HEIC (iPhone photos, which most browsers can't display): the opt-in plug-in, whose libheif module
// is fetched from dist/wasm/ only when a HEIC is dropped.
import '../../dist/heic.standalone.js';
// AVIF: the opt-in plug-in (libavif + libaom), fetched only when an AVIF is dropped or `format,avif` asked for.
import '../../dist/avif.standalone.js';

// The x-oss-process engine is offered when the entry exports it.
const transform = typeof imgpipe.transform === 'function' ? imgpipe.transform : undefined;
postMessage({ type: 'ready', transform: transform !== undefined });

const now = () => performance.now();

async function handle(msg) {
  const { id } = msg;
  const progress = (stage) => postMessage({ id, type: 'progress', stage });
  const started = now();
  progress('Loading WebAssembly codecs…');
  await imgpipe.init();
  const ready = now();
  if (msg.type === 'recipe') {
    progress('Decoding, resizing and encoding…');
    const result = await imgpipe.runRecipe(msg.bytes, { key: msg.name });
    const done = now();
    // Which sizes the recipe watermarks, and with what, so the page can say so beside each variant.
    const recipe = imgpipe.DEFAULT_RECIPE;
    const marked = new Set(recipe.watermark ? recipe.sizes.filter((s) => s.watermark).map((s) => s.name) : []);
    const variants = result.variants.map((v) => ({
      key: v.key, size: v.size, format: v.format, contentType: v.contentType, width: v.width, height: v.height, bytes: v.bytes,
      watermark: marked.has(v.size),
    }));
    postMessage({ id, type: 'done', source: result.source, variants, watermark: recipe.watermark?.text, ms: { init: ready - started, recipe: done - ready } },
      variants.map((v) => v.bytes.buffer));
  } else if (msg.type === 'process') {
    if (!transform) throw Object.assign(new Error('This build of imgpipe does not include the x-oss-process engine'), { code: 'UNSUPPORTED' });
    progress('Processing…');
    const r = await transform(msg.bytes, msg.process);
    postMessage({ id, type: 'done', result: { contentType: r.contentType, width: r.width, height: r.height, format: r.format, bytes: r.bytes }, ms: { process: now() - ready } }, [r.bytes.buffer]);
  }
}

onmessage = (event) => {
  handle(event.data).catch((e) => {
    postMessage({ id: event.data.id, type: 'error', code: e?.code ?? 'INTERNAL', message: String(e?.message ?? e) });
  });
};
