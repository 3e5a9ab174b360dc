/**
 * Page side of the preview: reads the chosen or dropped file, hands it to the Web Worker, and shows
 * progress, the variants (size, format, dimensions, bytes, time) or the error message.
 */
const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
let current; // { name, bytes } of the last file, for the x-oss-process box
const urls = [];

/** One request to the worker; `onProgress` receives stage texts until it answers. */
function call(message, onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ ...message, id });
  });
}

worker.onmessage = ({ data }) => {
  if (data.type === 'ready') {
    $('process').hidden = !data.transform;
    return;
  }
  const p = pending.get(data.id);
  if (!p) return;
  if (data.type === 'progress') return p.onProgress(data.stage);
  pending.delete(data.id);
  if (data.type === 'error') p.reject(Object.assign(new Error(data.message), { code: data.code }));
  else p.resolve(data);
};
worker.onerror = (e) => showError(`The worker failed to start: ${e.message}`);

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
function setStatus(text, busy) {
  $('status').textContent = text;
  $('status').classList.toggle('busy', busy);
  document.body.dataset.state = busy ? 'busy' : 'idle';
}
function showError(message) {
  $('error').textContent = message;
  setStatus('', false);
  document.body.dataset.state = 'error';
}
function blobUrl(bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  urls.push(url);
  return url;
}

async function run(file) {
  $('error').textContent = '';
  $('variants').replaceChildren();
  while (urls.length) URL.revokeObjectURL(urls.pop());
  const bytes = new Uint8Array(await file.arrayBuffer());
  current = { name: file.name, bytes };
  const started = performance.now();
  $('status').dataset.stage = 'Starting…';
  const tick = setInterval(() => setStatus(`${$('status').dataset.stage} ${((performance.now() - started) / 1000).toFixed(1)} s`, true), 100);
  try {
    const onProgress = (stage) => { $('status').dataset.stage = stage; setStatus(stage, true); };
    const { source, variants, watermark, ms } = await call({ type: 'recipe', name: file.name, bytes: bytes.slice() }, onProgress);
    clearInterval(tick);
    const marked = [...new Set(variants.filter((v) => v.watermark).map((v) => v.size))];
    const note = watermark && marked.length ? `; watermark “${watermark}” on ${marked.join(', ')}` : '';
    setStatus(`${source.width}×${source.height} ${source.format}, ${kb(source.bytes)} → ${variants.length} variants in ${ms.recipe.toFixed(0)} ms (codecs loaded in ${ms.init.toFixed(0)} ms)${note}`, false);
    document.body.dataset.state = 'done';
    for (const v of variants) {
      const fig = document.createElement('figure');
      fig.className = 'variant';
      Object.assign(fig.dataset, { key: v.key, size: v.size, format: v.format, width: v.width, height: v.height, bytes: v.bytes.byteLength, watermark: v.watermark });
      const img = document.createElement('img');
      img.src = blobUrl(v.bytes, v.contentType);
      img.alt = v.key;
      const cap = document.createElement('figcaption');
      cap.textContent = `${v.size} · ${v.format} · ${v.width}×${v.height} · ${kb(v.bytes.byteLength)} · recipe ${ms.recipe.toFixed(0)} ms${v.watermark ? ' · watermarked' : ''}`;
      fig.append(img, cap);
      $('variants').append(fig);
    }
    if (!$('process').hidden) void preview();
  } catch (e) {
    showError(`${e.code ?? 'ERROR'}: ${e.message}`);
  } finally {
    clearInterval(tick);
  }
}

let processTimer;
async function preview() {
  if (!current) return;
  const process = $('process-input').value.trim();
  const out = $('process-out');
  try {
    $('process-status').textContent = 'Processing…';
    const { result, ms } = await call({ type: 'process', name: current.name, bytes: current.bytes.slice(), process }, () => {});
    out.querySelector('img').src = blobUrl(result.bytes, result.contentType);
    out.querySelector('figcaption').textContent = `${result.format} · ${result.width}×${result.height} · ${kb(result.bytes.byteLength)} · ${ms.process.toFixed(0)} ms`;
    out.hidden = false;
    $('process-status').textContent = '';
  } catch (e) {
    out.hidden = true;
    $('process-status').textContent = `${e.code ?? 'ERROR'}: ${e.message}`;
  }
}

$('file').addEventListener('change', () => { const f = $('file').files?.[0]; if (f) void run(f); });
$('process-input').addEventListener('input', () => { clearTimeout(processTimer); processTimer = setTimeout(preview, 300); });
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files?.[0];
  if (f) void run(f);
});
