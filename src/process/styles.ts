/**
 * Image styles: named, saved process strings (`style/small`, or `photo.jpg!small` with a delimiter).
 * The rules are OSS's: names of 1-63 characters from [A-Za-z0-9_.-], at most 50 styles per table,
 * contents starting with `image/`. A table is validated once, when it is created.
 */
import { describeValue } from '../errors.js';
import { processError } from './oss-error.js';

/** OSS's per-bucket cap on styles. */
export const MAX_STYLES = 50;
const STYLE_NAME = /^[A-Za-z0-9_.-]+$/;
const MAX_STYLE_NAME = 63;
/** Delimiters OSS's console offers for the `key<delimiter><style>` form. */
export const STYLE_DELIMITERS = ['-', '_', '/', '!'] as const;
export type StyleDelimiter = (typeof STYLE_DELIMITERS)[number];

export type StyleTable = ReadonlyMap<string, string>;

/** Refuse a style name OSS would refuse, with OSS's PutStyle wording and EC. */
export function checkStyleName(name: string): void {
  const ec = name.length < 1 || name.length > MAX_STYLE_NAME ? '0017-00000250' : !STYLE_NAME.test(name) ? '0017-00000251' : undefined;
  if (ec === undefined) return;
  throw processError(
    'INVALID_ARGUMENT', 'InvalidArgument',
    `The value: ${name} of parameter: stylename is invalid. Expected 1 to ${MAX_STYLE_NAME} characters from A-Z a-z 0-9 _ . - but received ${describeValue(name)}`,
    { param: 'stylename', ec },
  );
}

/**
 * Build a style table from `{ name: 'image/...' }`. Contents are checked for the `image/` prefix
 * here; their actions are validated when parsed, with the caller's options.
 */
export function createStyleTable(styles: Readonly<Record<string, string>> | ReadonlyMap<string, string>): StyleTable {
  const entries = styles instanceof Map ? [...styles.entries()] : Object.entries(styles);
  if (entries.length > MAX_STYLES) {
    throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected at most ${MAX_STYLES} styles but received ${entries.length}`, { param: 'styles' });
  }
  const table = new Map<string, string>();
  for (const [name, content] of entries) {
    checkStyleName(name);
    if (typeof content !== 'string' || !content.startsWith('image/')) {
      throw processError(
        'INVALID_ARGUMENT', 'InvalidArgument',
        `Expected the content of style ${name} to start with "image/" but received ${describeValue(content)}`,
        { param: 'stylename' },
      );
    }
    table.set(name, content);
  }
  return table;
}

/** The content of style `name`, or NoSuchStyle. */
export function lookupStyle(table: StyleTable | undefined, name: string): string {
  const content = table?.get(name);
  if (content === undefined) {
    throw processError('NOT_FOUND', 'NoSuchStyle', `Expected an existing style but received ${describeValue(name)}`, { param: 'stylename' });
  }
  return content;
}

/**
 * Split `photo.jpg!small` into key and style. OSS treats everything after the delimiter as the style
 * name; since keys may contain the delimiter too (`my-photo.jpg-small`), the split is at the last
 * delimiter whose suffix names an existing style. Without such a suffix the whole path is the key.
 */
export function splitStyleDelimiter(
  path: string,
  delimiters: readonly StyleDelimiter[],
  table: StyleTable | undefined,
): { key: string; style?: string } {
  if (!table || delimiters.length === 0) return { key: path };
  for (let i = path.length - 1; i > 0; i--) {
    if (!(delimiters as readonly string[]).includes(path[i])) continue;
    const style = path.slice(i + 1);
    if (table.has(style)) return { key: path.slice(0, i), style };
  }
  return { key: path };
}
