/**
 * OSS's resize semantics as arithmetic: from the source size and the `resize` parameters to the size
 * to scale to and the canvas to crop or pad to. Pure and pixel-free, so every size is known (and
 * checked against the output limits) before anything is allocated.
 */

/** The `resize` action's parameters (`ParamsOf<'resize'>`), as the planner reads them. */
export interface ResizeParams {
  readonly m: 'lfit' | 'mfit' | 'fill' | 'pad' | 'fixed';
  readonly w?: number;
  readonly h?: number;
  readonly l?: number;
  readonly s?: number;
  readonly p?: number;
  readonly limit: boolean;
}

export interface ResizePlan {
  /** Scale the image to exactly this size (undefined: keep it as it is). */
  readonly scale?: { readonly width: number; readonly height: number };
  /** Then centre-crop (`fill`) or centre-pad (`pad`) to this size. */
  readonly canvas?: { readonly width: number; readonly height: number; readonly mode: 'crop' | 'pad' };
}

const atLeast1 = (v: number) => Math.max(1, Math.round(v));

/**
 * `num / den` rounded half up, in integers (sizes times sizes stay far below 2^53), so a side derived
 * from the exact ratio never picks up the float error of a scale factor computed first: 2400 * 800 / 3640
 * is 527.47, so `w_800` on 3640x2400 is 800x527, never 799x527.
 */
const ratio = (num: number, den: number) => Math.max(1, Math.floor((2 * num + den) / (2 * den)));

export function planResize(srcW: number, srcH: number, p: ResizeParams): ResizePlan {
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
  // One side only: that side is exactly what was asked, the other follows the exact aspect ratio, and
  // every mode gives the same result (there is no box to crop or pad to).
  if (bw === undefined || bh === undefined) {
    const scale = bw !== undefined ? { width: bw, height: ratio(srcH * bw, srcW) } : { width: ratio(srcW * bh!, srcH), height: bh! };
    return finish(srcW, srcH, p.limit, { scale });
  }
  const [boxW, boxH] = [bw, bh];
  const fit = (cover: boolean) => {
    // Which side constrains, compared exactly (boxW/srcW against boxH/srcH, cross-multiplied): that side
    // lands on the box, the other is rounded from the exact ratio.
    const widthBinds = cover ? boxW * srcH >= boxH * srcW : boxW * srcH <= boxH * srcW;
    return widthBinds ? { width: boxW, height: ratio(srcH * boxW, srcW) } : { width: ratio(srcW * boxH, srcH), height: boxH };
  };
  let plan: ResizePlan;
  switch (p.m) {
    case 'lfit': plan = { scale: fit(false) }; break;
    case 'mfit': plan = { scale: fit(true) }; break;
    case 'fill': plan = { scale: fit(true), canvas: { width: boxW, height: boxH, mode: 'crop' } }; break;
    case 'pad': plan = { scale: fit(false), canvas: { width: boxW, height: boxH, mode: 'pad' } }; break;
    case 'fixed': plan = { scale: { width: boxW, height: boxH } }; break;
  }
  return finish(srcW, srcH, p.limit, plan);
}

function finish(srcW: number, srcH: number, limit: boolean, plan: ResizePlan): ResizePlan {
  // limit_1 (default): an upscale request returns the image at its original resolution.
  if (limit && plan.scale && (plan.scale.width > srcW || plan.scale.height > srcH)) return {};
  if (plan.scale && sameSize(srcW, srcH, plan.scale.width, plan.scale.height)) plan = { canvas: plan.canvas };
  if (plan.canvas && plan.canvas.width === (plan.scale?.width ?? srcW) && plan.canvas.height === (plan.scale?.height ?? srcH)) {
    plan = plan.scale ? { scale: plan.scale } : {};
  }
  return plan;
}

function sameSize(w: number, h: number, w2: number, h2: number): boolean {
  return w === w2 && h === h2;
}
