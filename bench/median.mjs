/**
 * The median for the plain-`node` benchmark scripts (bench/cold-ab.mjs, bench/peak-ab.mjs), which cannot
 * import bench/stats.ts: the middle value, or the mean of the two middle ones, as `summarize` there.
 */
export function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
