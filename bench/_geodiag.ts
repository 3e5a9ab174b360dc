import { readFileSync } from 'node:fs';
(globalThis as any).__bmTrace = [];
const T = (globalThis as any).__bmTrace as any[];
await import('../entries/node.js');
const { encode } = await import('../src/encode.js');
const bw = await import('../src/ops/blind-watermark.js');
const sig = await import('../src/ops/blindmark/signal.js');
const { kernel } = await import('../src/kernels/module.js');
const { ATTACKS } = await import('./blindmark-attacks.js');
const { contentFor, photo } = await import('./blindmark-photos.js');
const KEY = 'benchmark key';
const arg = (name: string, fallback: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback; };
const only = arg('attack', '');
const cases = readFileSync(arg('cases', ''), 'utf8').split('\n').filter((l) => /^\d/.test(l))
  .map((l) => { const [n, w, ...a] = l.trim().split(/\s+/); return { n: Number(n), width: Number(w), attack: a.join(' ') }; })
  .filter((c) => !only || c.attack === only);
for (const c of cases) {
  const attack = ATTACKS.find((a) => a.name === c.attack)!;
  const { image } = await photo(c.n, c.width);
  const content = contentFor(c.n);
  const marked = await bw.embedBlindWatermark(image, { content, key: KEY });
  const attacked = await attack.apply(await encode(marked, 'jpeg', { quality: 85 }), 1000 * c.n + c.width);
  const scale = c.attack.startsWith('resize') ? attacked.width / image.width : 1;
  const { tile, sync, coded } = bw.blindWatermarkInternals(content, KEY);
  const truth = await kernel.use((k) => {
    k.reset();
    const rd = sig.openReader(k, attacked.width, attacked.height);
    sig.readImage(rd, attacked);
    sig.whiten(rd, sig.whiteningRadii(scale));
    const g = { scale, angle: 0 };
    const folded = sig.fold(rd, g);
    const peak = sig.syncSearch(rd, folded, sync, 1)[0];
    let ber = 0.5;
    if (peak) {
      const soft = sig.despread(folded, peak, tile, coded.length);
      let wrong = 0;
      for (let i = 0; i < coded.length; i++) if ((soft[i] > 0 ? 1 : 0) !== coded[i]) wrong++;
      ber = wrong / coded.length;
    }
    const lat = sig.estimateLattice(rd, rd.residual).slice(0, 8).map((g) => [+g.scale.toFixed(4), +(g.angle * 180 / Math.PI).toFixed(2)]);
    // sync height on the whole image at true geometry, and at small scale errors
    const zAt = (s: number) => sig.syncSearch(rd, sig.fold(rd, { scale: s, angle: 0 }), sync, 1, 2, peak?.orientation ? peak.orientation & ~1 : 0)[0]?.z ?? 0;
    const zs = [0.99, 0.995, 1, 1.005, 1.01].map((f) => +zAt(scale * f).toFixed(1));
    const dec = (bw as any).__tryDecodeAt(rd, g, KEY);
    k.reset();
    return { ber: +(ber * 100).toFixed(1), z: +(peak?.z ?? 0).toFixed(1), o: peak?.orientation, dec, lat, zs };
  }, sig.readerBytes(attacked.width, attacked.height));
  T.length = 0;
  const t0 = performance.now();
  const r = await bw.extractBlindWatermark(attacked, { key: KEY });
  const ms = performance.now() - t0;
  const ok = r.found && r.content === content;
  console.log(JSON.stringify({ case: `${c.n} ${c.width} ${c.attack}`, size: `${attacked.width}x${attacked.height}`, scale: +scale.toFixed(4), ok, ms: Math.round(ms), truth, trace: T.slice() }, (k, v) => typeof v === 'number' ? +v.toFixed(4) : v));
}
