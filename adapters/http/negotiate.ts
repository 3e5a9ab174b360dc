/**
 * Format negotiation, an opt-in extension (`negotiate: true`): a process string without a `format`
 * action is answered in the best format the client's `Accept` names that imgpipe can write, AVIF
 * (when its `imgpipe/avif` plug-in is loaded) before WebP, read from the format registry so a new encoder joins by its row. Off by default: OSS
 * itself keeps the source's format, and a string should mean the same bytes everywhere.
 */
import { FORMATS, type FormatInfo, type OutputFormat } from '../../src/index.js';
import type { Operation } from '../../src/index.js';
import { hasPlugin } from '../../src/index.js';

/** Better first; only formats whose registry row can encode are offered. */
const PREFERENCE = ['avif', 'webp'] as const;

/** The format `accept` allows (an explicit `image/avif` or `image/webp` with q > 0), or undefined. */
export function negotiateFormat(accept: string | null): OutputFormat | undefined {
  if (!accept) return undefined;
  const allowed = new Set<string>();
  for (const part of accept.toLowerCase().split(',')) {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) allowed.add(type);
  }
  const rows = Object.values(FORMATS) as FormatInfo[];
  for (const id of PREFERENCE) {
    const row = rows.find((f) => (f.id as string) === id);
    // A format written by an opt-in plug-in (AVIF) is offered only where that plug-in is loaded.
    if (row?.encode && (!row.plugin || hasPlugin(row.id)) && allowed.has(row.mime)) return row.id as OutputFormat;
  }
  return undefined;
}

/** True when a chain's output format is the server's to choose: an image without a `format` action. */
export function negotiable(ops: readonly Operation[]): boolean {
  return !ops.some((op) => op.action === 'format' || op.action === 'info' || op.action === 'average-hue');
}
