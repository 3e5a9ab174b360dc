/**
 * EventBridge event patterns, evaluated locally, so the filter a user writes in the EventBridge
 * console can run unchanged in the handler (and in the local server, which has no EventBridge).
 *
 * The rules (spec §6): a pattern mirrors the event's nesting; each leaf is an array of conditions,
 * ORed; different keys are ANDed; every named field must exist; matching is exact and case-sensitive;
 * an array-valued event field matches when any element matches. Conditions: a literal (string,
 * number, boolean, `null`; `""` and `null` are distinct), `prefix`, `suffix`, `contains`,
 * `anything-but` (a value, a list, or `{prefix}`), `numeric` (one comparison or a pair for a range),
 * `cidr` (IPv4), `exists`. Several operators in one object must all hold; `{}` never matches.
 *
 * Patterns are compiled once: a malformed pattern is refused with the path of the mistake when the
 * handler is created, not silently mismatched per event.
 */
import { ImgpipeError, describeValue, formatRows } from '../../src/index.js';

type Condition = (value: unknown, present: boolean) => boolean;
type Matcher = (event: unknown) => boolean;

/** An EventBridge event pattern: nested objects whose leaves are arrays of conditions. */
export type EventPattern = { readonly [field: string]: EventPattern | readonly unknown[] };

const NUMERIC_OPS = ['=', '>', '<', '>=', '<='] as const;
type NumericOp = (typeof NUMERIC_OPS)[number];

function bad(path: string, expected: string, received: unknown): ImgpipeError {
  return new ImgpipeError('INVALID_ARGUMENT', `Expected ${expected} at ${path} but received ${describeValue(received)}`, { details: { path } });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** EventBridge's limits on numbers in patterns: within ±1e9, at most 15 digits and 6 decimals. */
function checkPatternNumber(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 1e9) throw bad(path, 'a number between -1e9 and 1e9', v);
  const text = String(Math.abs(v));
  const [whole, decimals = ''] = text.split('.');
  if (text.includes('e') || decimals.length > 6 || whole.replace(/^0$/, '').length + decimals.length > 15) {
    throw bad(path, 'a number with at most 15 digits and 6 decimal places', v);
  }
  return v;
}

function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function compileCidr(v: unknown, path: string): Condition {
  const m = typeof v === 'string' ? /^([^/]+)\/(\d{1,2})$/.exec(v) : null;
  const base = m ? parseIpv4(m[1]) : undefined;
  const bits = m ? Number(m[2]) : Number.NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) throw bad(path, 'an IPv4 CIDR block such as "10.0.0.0/24"', v);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (value) => {
    const ip = typeof value === 'string' ? parseIpv4(value) : undefined;
    return ip !== undefined && ((ip & mask) >>> 0) === ((base & mask) >>> 0);
  };
}

function compileNumeric(v: unknown, path: string): Condition {
  if (!Array.isArray(v) || (v.length !== 2 && v.length !== 4)) {
    throw bad(path, 'an array of one or two [operator, number] pairs such as [">", 0, "<=", 5]', v);
  }
  const tests: ((n: number) => boolean)[] = [];
  for (let i = 0; i < v.length; i += 2) {
    const op = v[i] as NumericOp;
    if (!NUMERIC_OPS.includes(op)) throw bad(`${path}[${i}]`, `one of ${NUMERIC_OPS.map((o) => `"${o}"`).join(', ')}`, v[i]);
    const bound = checkPatternNumber(v[i + 1], `${path}[${i + 1}]`);
    tests.push(
      op === '=' ? (n) => n === bound
      : op === '>' ? (n) => n > bound
      : op === '<' ? (n) => n < bound
      : op === '>=' ? (n) => n >= bound
      : (n) => n <= bound,
    );
  }
  return (value) => typeof value === 'number' && tests.every((t) => t(value));
}

function stringOp(name: string, v: unknown, path: string, test: (s: string, arg: string) => boolean): Condition {
  if (typeof v !== 'string') throw bad(`${path}.${name}`, 'a string', v);
  return (value) => typeof value === 'string' && test(value, v);
}

function compileAnythingBut(v: unknown, path: string): Condition {
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1 || keys[0] !== 'prefix' || typeof v.prefix !== 'string') throw bad(path, 'a string, a number, an array of them, or {"prefix": string}', v);
    const prefix = v.prefix;
    return (value) => typeof value === 'string' && !value.startsWith(prefix);
  }
  const list = Array.isArray(v) ? v : [v];
  list.forEach((item, i) => {
    if (typeof item === 'number') checkPatternNumber(item, Array.isArray(v) ? `${path}[${i}]` : path);
    else if (typeof item !== 'string') throw bad(Array.isArray(v) ? `${path}[${i}]` : path, 'a string or a number', item);
  });
  return (value) => (typeof value === 'string' || typeof value === 'number') && !list.includes(value);
}

function compileCondition(c: unknown, path: string): Condition {
  if (c === null || typeof c === 'string' || typeof c === 'number' || typeof c === 'boolean') {
    if (typeof c === 'number') checkPatternNumber(c, path);
    return (value) => value === c;
  }
  if (!isPlainObject(c)) throw bad(path, 'a literal or an operator object', c);
  const keys = Object.keys(c);
  // `{}` names no condition at all; EventBridge treats it as matching nothing, never as a wildcard.
  if (keys.length === 0) return () => false;
  const parts: Condition[] = keys.map((op): Condition => {
    const arg = c[op];
    switch (op) {
      case 'prefix':
        return stringOp(op, arg, path, (s, a) => s.startsWith(a));
      case 'suffix':
        return stringOp(op, arg, path, (s, a) => s.endsWith(a));
      case 'contains':
        return stringOp(op, arg, path, (s, a) => s.includes(a));
      case 'anything-but':
        return compileAnythingBut(arg, `${path}.anything-but`);
      case 'numeric':
        return compileNumeric(arg, `${path}.numeric`);
      case 'cidr':
        return compileCidr(arg, `${path}.cidr`);
      case 'exists':
        if (typeof arg !== 'boolean') throw bad(`${path}.exists`, 'true or false', arg);
        return (_value, present) => present === arg;
      default:
        throw bad(path, 'an operator among prefix, suffix, contains, anything-but, numeric, cidr, exists', op);
    }
  });
  return (value, present) => parts.every((p) => p(value, present));
}

/** Conditions for which an absent field can match (only `{"exists": false}`). */
function matchesAbsence(condition: unknown): boolean {
  return isPlainObject(condition) && Object.keys(condition).length === 1 && condition.exists === false;
}

function compileLeaf(conditions: readonly unknown[], path: string): Matcher {
  if (conditions.length === 0) throw bad(path, 'at least one condition', conditions);
  const compiled = conditions.map((c, i) => ({ test: compileCondition(c, `${path}[${i}]`), absentOk: matchesAbsence(c) }));
  return (value) => {
    if (value === undefined) return compiled.some((c) => c.absentOk);
    // An array-valued field matches when any of its elements does; `exists` looks at the field itself.
    const values = Array.isArray(value) ? value : [value];
    return compiled.some((c) => (c.absentOk ? false : values.some((v) => c.test(v, true))));
  };
}

function compileNode(pattern: unknown, path: string): Matcher {
  if (!isPlainObject(pattern)) throw bad(path, 'an object mirroring the event, with arrays of conditions as leaves', pattern);
  const fields = Object.entries(pattern).map(([name, sub]) => {
    const subPath = `${path}.${name}`;
    const match = Array.isArray(sub) ? compileLeaf(sub, subPath) : compileNode(sub, subPath);
    return { name, match };
  });
  return (event) =>
    fields.every(({ name, match }) => {
      const value = isPlainObject(event) && Object.prototype.hasOwnProperty.call(event, name) ? event[name] : undefined;
      return match(value);
    });
}

/**
 * Compile a pattern into a predicate. Throws `ImgpipeError('INVALID_ARGUMENT')` naming the path of the
 * first malformed part (`pattern.data.oss.object.size[0].numeric[0]`).
 */
export function compilePattern(pattern: unknown): (event: unknown) => boolean {
  const match = compileNode(pattern, 'pattern');
  return (event) => match(event);
}

/** One-shot convenience: compile and test. Prefer `compilePattern` for repeated use. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

/** Every spelling of `s` in upper and lower case letters (`.jpg`, `.jpG`, ... `.JPG`). */
const spellings = (s: string): string[] =>
  [...s].reduce<string[]>((all, c) => all.flatMap((p) => (c.toLowerCase() === c.toUpperCase() ? [p + c] : [p + c.toLowerCase(), p + c.toUpperCase()])), ['']);

/**
 * Suffixes of the image formats imgpipe reads (every row of the format registry: each has a decoder, a
 * plug-in's saying how to enable it), in every case: pattern matching is case-sensitive, and uploads come as IMG_0001.HEIC (iPhones), photo.jpg and
 * now and then Photo.Jpg (renamed by hand), all of which the backfill plan counts as images. The
 * plug-in formats are in: a HEIC upload to a function without the HEIC plug-in is then a permanent
 * failure whose error says how to enable it, where a filter would have skipped it without a word.
 */
const IMAGE_SUFFIXES = formatRows().flatMap((f) => f.extensions.flatMap((e) => spellings(`.${e}`)));

/**
 * The handler's default filter, applied to the event in CloudEvent form: object-created events for
 * image extensions with a size above 0 (an empty object is a folder marker or an aborted upload).
 */
export const DEFAULT_UPLOAD_PATTERN: EventPattern = Object.freeze({
  data: Object.freeze({
    eventName: Object.freeze([Object.freeze({ prefix: 'ObjectCreated:' })]),
    oss: Object.freeze({
      object: Object.freeze({
        key: Object.freeze(IMAGE_SUFFIXES.map((suffix) => Object.freeze({ suffix }))),
        size: Object.freeze([Object.freeze({ numeric: Object.freeze(['>', 0]) }), Object.freeze({ exists: false })]),
      }),
    }),
  }),
});
