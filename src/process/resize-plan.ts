/**
 * OSS's resize semantics as arithmetic: from the source size and the `resize` parameters to the size
 * to scale to and the canvas to crop or pad to. Pure and pixel-free, so every size is known (and
 * checked against the output limits) before anything is allocated.
 */
import type { ParamsOf } from './actions.js';

export interface ResizePlan {
  /** Scale the image to exactly this size (undefined: keep it as it is). */
  readonly scale?: { readonly width: number; readonly height: number };
  /** Then centre-crop (`fill`) or centre-pad (`pad`) to this size. */
  readonly canvas?: { readonly width: number; readonly height: number; readonly mode: 'crop' | 'pad' };
}

const atLeast1 = (v: number) => Math.max(1, Math.round(v));

export function planResize(srcW: number, srcH: number, p: ParamsOf<'resize'>): ResizePlan {
  const hasBox = p.w !== undefined || p.h !== undefined || p.l !== undefined || p.s !== undefined;
  if (!hasBox) {
    // p alone: a plain percentage. The docs say p > 100 enlarges, so `limit` does not apply here.
    const f = (p.p ?? 100) / 100;
    return sameSize(srcW, srcH, atLeast1(srcW * f), atLeast1(srcH * f)) ? {} : { scale: { width: atLeast1(srcW * f), height: atLeast1(srcH * f) } };
  }
  let bw: number | undefined, bh: number | undefined;
  if (p.w !== undefined || p.h !== undefined) {
    [bw, bh] = [p.w, p.h];
  } else {
    // l/s name the source's longer and shorter side, whichever axis that is.
    const landscape = srcW >= srcH;
    [bw, bh] = landscape ? [p.l, p.s] : [p.s, p.l];
  }
  if (p.p !== undefined) {
    const f = p.p / 100;
    if (bw !== undefined) bw = atLeast1(bw * f);
    if (bh !== undefined) bh = atLeast1(bh * f);
  }
  // One side only: the other follows the aspect ratio, and every mode gives the same result.
  if (bw === undefined) bw = atLeast1((srcW * bh!) / srcH);
  if (bh === undefined) bh = atLeast1((srcH * bw) / srcW);

  const fit = (cover: boolean) => {
    const f = cover ? Math.max(bw! / srcW, bh! / srcH) : Math.min(bw! / srcW, bh! / srcH);
    // The constrained side lands exactly on the box; the other is rounded.
    const width = (bw! / srcW === f) ? bw! : atLeast1(srcW * f);
    const height = (bh! / srcH === f) ? bh! : atLeast1(srcH * f);
    return { width, height };
  };
  let plan: ResizePlan;
  switch (p.m) {
    case 'lfit': plan = { scale: fit(false) }; break;
    case 'mfit': plan = { scale: fit(true) }; break;
    case 'fill': plan = { scale: fit(true), canvas: { width: bw, height: bh, mode: 'crop' } }; break;
    case 'pad': plan = { scale: fit(false), canvas: { width: bw, height: bh, mode: 'pad' } }; break;
    case 'fixed': plan = { scale: { width: bw, height: bh } }; break;
  }
  // limit_1 (default): an upscale request returns the image at its original resolution.
  if (p.limit && plan.scale && (plan.scale.width > srcW || plan.scale.height > srcH)) return {};
  if (plan.scale && sameSize(srcW, srcH, plan.scale.width, plan.scale.height)) plan = { canvas: plan.canvas };
  if (plan.canvas && plan.canvas.width === (plan.scale?.width ?? srcW) && plan.canvas.height === (plan.scale?.height ?? srcH)) {
    plan = plan.scale ? { scale: plan.scale } : {};
  }
  return plan;
}

function sameSize(w: number, h: number, w2: number, h2: number): boolean {
  return w === w2 && h === h2;
}
