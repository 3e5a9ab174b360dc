/**
 * A hand-written SVG bar chart for the README: grouped horizontal bars (one group per workload, one
 * row per competitor, one bar per series such as "1 thread" / "all cores"), each bar the median with
 * a tick at the minimum. Plain SVG 1.1 with inline attributes and no fonts to load, so it renders the
 * same on GitHub, in a browser and in an image viewer; no dependency for forty lines of markup.
 */

export interface ChartRow {
  readonly label: string;
  /** One median per series; undefined = not measured (drawn as a note, never as a zero bar). */
  readonly values: readonly (number | undefined)[];
  /** One minimum per series, drawn as a tick on the bar. */
  readonly mins?: readonly (number | undefined)[];
  /** Shown instead of bars when no value exists (e.g. "failed: ..."), or after them otherwise. */
  readonly note?: string;
  /** Draw the label in bold (our own rows). */
  readonly highlight?: boolean;
}

export interface ChartGroup {
  readonly title: string;
  readonly rows: readonly ChartRow[];
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** Appended to every value label, e.g. "ms". */
  readonly unit: string;
  readonly series: readonly string[];
  readonly groups: readonly ChartGroup[];
  readonly footnote?: string;
}

/** Colour per series; a colour-blind-safe pair first (blue / orange). */
export const SERIES_COLOURS = Object.freeze(['#3b6fb6', '#e08a1e', '#5aa05a', '#9b59b6']);

const LAYOUT = Object.freeze({
  width: 860,
  labelWidth: 190,
  valueWidth: 120,
  barHeight: 14,
  barGap: 2,
  rowGap: 8,
  groupGap: 18,
  margin: 16,
  titleHeight: 26,
  subtitleHeight: 18,
  legendHeight: 22,
  groupTitleHeight: 22,
  footnoteHeight: 18,
});

/** Escape text for use inside SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function formatValue(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ' ' + attrs : ''}>${escapeXml(content)}</text>`;
}

/** Render the chart. Each group gets its own scale so a 5-second workload doesn't flatten a 100-ms one. */
export function renderBarChart(spec: ChartSpec): string {
  const L = LAYOUT;
  const seriesCount = Math.max(1, spec.series.length);
  const rowHeight = seriesCount * L.barHeight + (seriesCount - 1) * L.barGap;
  const plotX = L.margin + L.labelWidth;
  const plotWidth = L.width - plotX - L.valueWidth - L.margin;
  const parts: string[] = [];
  let y = L.margin;

  parts.push(text(L.margin, y + 16, spec.title, 'font-size="16" font-weight="bold"'));
  y += L.titleHeight;
  if (spec.subtitle) {
    parts.push(text(L.margin, y + 12, spec.subtitle, 'font-size="12" fill="#555"'));
    y += L.subtitleHeight;
  }
  let lx = L.margin;
  spec.series.forEach((name, i) => {
    parts.push(`<rect x="${lx}" y="${y + 4}" width="12" height="12" fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}"/>`);
    parts.push(text(lx + 16, y + 14, name, 'font-size="12"'));
    lx += 24 + name.length * 7;
  });
  parts.push(text(lx + 8, y + 14, `bar = median, tick = min, ${spec.unit}; shorter is faster`, 'font-size="12" fill="#555"'));
  y += L.legendHeight;

  for (const group of spec.groups) {
    y += L.groupGap / 2;
    parts.push(text(L.margin, y + 15, group.title, 'font-size="13" font-weight="bold"'));
    y += L.groupTitleHeight;
    const max = Math.max(0, ...group.rows.flatMap((r) => r.values.filter((v): v is number => v !== undefined)));
    const scale = max > 0 ? plotWidth / max : 0;
    for (const row of group.rows) {
      const weight = row.highlight ? ' font-weight="bold"' : '';
      parts.push(text(plotX - 8, y + rowHeight / 2 + 4, row.label, `font-size="12" text-anchor="end"${weight}`));
      const measured = row.values.some((v) => v !== undefined);
      if (!measured) {
        parts.push(text(plotX + 4, y + rowHeight / 2 + 4, row.note ?? 'not measured', 'font-size="12" fill="#a33"'));
      }
      row.values.forEach((v, i) => {
        if (v === undefined) return;
        const by = y + i * (L.barHeight + L.barGap);
        const w = Math.max(1, v * scale);
        const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
        parts.push(`<rect x="${plotX}" y="${by.toFixed(1)}" width="${w.toFixed(1)}" height="${L.barHeight}" fill="${colour}"/>`);
        const m = row.mins?.[i];
        if (m !== undefined) {
          const mx = plotX + Math.max(1, m * scale);
          parts.push(`<line x1="${mx.toFixed(1)}" y1="${by.toFixed(1)}" x2="${mx.toFixed(1)}" y2="${(by + L.barHeight).toFixed(1)}" stroke="#000" stroke-width="2"/>`);
        }
        const label = `${formatValue(v)} ${spec.unit}${i === 0 && row.note ? ` (${row.note})` : ''}`;
        parts.push(text(plotX + w + 4, by + L.barHeight - 3, label, 'font-size="11"'));
      });
      y += rowHeight + L.rowGap;
    }
  }
  if (spec.footnote) {
    y += 4;
    parts.push(text(L.margin, y + 12, spec.footnote, 'font-size="11" fill="#555"'));
    y += L.footnoteHeight;
  }
  const height = Math.ceil(y + L.margin);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${height}" viewBox="0 0 ${L.width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${L.width}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
