/**
 * Writes the README's x-oss-process compatibility table from the action table, and its format table
 * from the format registry, so the docs can never disagree with the parser or the codecs.
 * `npm run docs:compat` rewrites the sections between the markers; test/process/compat.test.ts and
 * test/formats.test.ts fail when they are out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { formatRows } from '../src/formats.js';
import { ACTIONS, ACTION_NAMES, type ActionDef } from '../src/process/actions.js';
import { DEFAULT_OUTPUT_LIMITS } from '../src/process/limits.js';
import { MAX_STYLES } from '../src/process/styles.js';

export const START = '<!-- compat:start -->';
export const END = '<!-- compat:end -->';

const SUPPORT: Record<ActionDef['support'], string> = { yes: 'yes', partial: 'partly', extension: 'imgpipe only (opt-in)' };
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function showDefault(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Array.isArray(v)) return v.map((n: number) => n.toString(16).padStart(2, '0')).join('').toUpperCase();
  return String(v);
}

/** The generated section, markers excluded. */
export function renderCompat(): string {
  const lines = [
    '## x-oss-process compatibility',
    '',
    'Generated from `src/process/actions.ts` by `npm run docs:compat`; do not edit by hand.',
    `Output limits: ${DEFAULT_OUTPUT_LIMITS.maxSide} px per side, ${DEFAULT_OUTPUT_LIMITS.maxPixels} pixels, ${DEFAULT_OUTPUT_LIMITS.maxActions} actions per string (configurable). Styles: names of 1-63 characters from \`[A-Za-z0-9_.-]\`, at most ${MAX_STYLES}.`,
    'Everywhere: unknown actions and parameters, and a parameter given twice, are refused (InvalidArgument) rather than ignored, so typos surface; errors carry OSS\'s Code and, where documented, its EC.',
    '',
    '| action | supported | parameter | accepts | default | OSS EC | notes |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const name of ACTION_NAMES) {
    const def: ActionDef = ACTIONS[name];
    const params = Object.entries(def.params);
    const required = def.requireOneOf ? `Requires ${def.requireOneOf.length > 1 ? 'one of ' : ''}${def.requireOneOf.join(', ')}. ` : '';
    const actionNote = cell(`${def.doc} ${required}${def.terminal ? 'Answers JSON; must be last. ' : ''}${def.note ?? ''}`.trim());
    if (params.length === 0) {
      lines.push(`| \`${name}\` | ${SUPPORT[def.support]} | — | | | | ${actionNote} |`);
      continue;
    }
    params.forEach(([param, p], i) => {
      const label = param === def.positional ? '(bare value)' : `\`${param}\``;
      const notes = cell(`${p.doc}${p.note ? `. ${p.note}` : ''}`) + (i === 0 ? `. ${actionNote}` : '');
      lines.push(`| ${i === 0 ? `\`${name}\`` : ''} | ${i === 0 ? SUPPORT[def.support] : ''} | ${label} | ${p.spec.range} | ${showDefault(p.default)} | ${p.ec ?? ''} | ${notes} |`);
    });
  }
  return lines.join('\n');
}

export const FORMATS_START = '<!-- formats:start -->';
export const FORMATS_END = '<!-- formats:end -->';

/** The format table (markers excluded): one line per registered format. */
export function renderFormats(): string {
  const lines = [
    '| format | content type | extensions | reads | writes | default quality | x-oss-process name |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of formatRows()) {
    lines.push(`| ${f.name} | \`${f.mime}\` | ${f.extensions.join(', ')} | ${f.plugin ? `with \`${f.plugin}\`` : 'yes'} | ${f.encode ? 'yes' : 'no'} | ${f.defaultQuality ?? ''} | ${f.oss.aliases.join(', ')} |`);
  }
  return lines.join('\n');
}

/** README text with the compatibility section replaced (markers appended at the end when absent), and the format table where its markers are. */
export function updateReadme(readme: string): string {
  const formats = readme.indexOf(FORMATS_START), formatsEnd = readme.indexOf(FORMATS_END);
  if (formats >= 0 && formatsEnd > formats) {
    readme = readme.slice(0, formats) + `${FORMATS_START}\n${renderFormats()}\n${FORMATS_END}` + readme.slice(formatsEnd + FORMATS_END.length);
  }
  const section = `${START}\n${renderCompat()}\n${END}`;
  const a = readme.indexOf(START), b = readme.indexOf(END);
  if (a < 0 || b < a) return `${readme.replace(/\n*$/, '\n\n')}${section}\n`;
  return readme.slice(0, a) + section + readme.slice(b + END.length);
}

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const before = await readFile(README, 'utf8');
  const after = updateReadme(before);
  if (after !== before) await writeFile(README, after);
  console.log(after === before ? 'README compatibility table already up to date' : 'README compatibility table updated');
}
