/**
 * `image/resize,w_300/rotate,90` -> a typed, frozen list of operations, validated against the action
 * table. Parsing never touches pixels, so a bad string is refused before any source is fetched.
 */
import { describeValue } from '../errors.js';
import { ACTIONS, ACTION_NAMES, isActionName, type ActionDef, type Operation } from './actions.js';
import { DEFAULT_OUTPUT_LIMITS } from './limits.js';
import { processError } from './oss-error.js';
import { parseParam } from './params.js';
import { missingMessage } from '../spec.js';
import { lookupStyle, type StyleTable } from './styles.js';

export interface ParseOptions {
  /** Styles that `style/<name>` may name. */
  readonly styles?: StyleTable;
  /** Accept imgpipe's own actions that OSS lacks (`flip`). Off by default to keep strings portable. */
  readonly extensions?: boolean;
  /** Most actions in one string (default from the output limits). */
  readonly maxActions?: number;
}

export function parseProcess(process: string, options: ParseOptions = {}): readonly Operation[] {
  if (typeof process !== 'string') {
    throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected a process string starting with "image/" or "style/" but received ${describeValue(process)}`);
  }
  let body: string;
  if (process.startsWith('style/')) {
    body = lookupStyle(options.styles, process.slice('style/'.length)).slice('image/'.length);
  } else if (process.startsWith('image/')) {
    body = process.slice('image/'.length);
  } else {
    throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected a process string starting with "image/" or "style/" but received ${describeValue(process)}`);
  }
  // Empty segments (a trailing "/" or "//") carry nothing: skipped rather than refused.
  const segments = body.split('/').filter((s) => s.length > 0);
  const maxActions = options.maxActions ?? DEFAULT_OUTPUT_LIMITS.maxActions;
  if (segments.length > maxActions) {
    throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected at most ${maxActions} actions but received ${segments.length}`);
  }
  const ops = segments.map((segment) => parseAction(segment, options));
  ops.forEach((op, i) => {
    if ((ACTIONS[op.action] as ActionDef).terminal && i !== ops.length - 1) {
      throw processError(
        'INVALID_ARGUMENT', 'InvalidArgument',
        `Expected ${op.action} to be the last action (it answers JSON) but received ${describeValue(segments.slice(i + 1).join('/'))} after it`,
        { action: op.action },
      );
    }
  });
  return Object.freeze(ops);
}

function parseAction(segment: string, options: ParseOptions): Operation {
  const [name, ...tokens] = segment.split(',');
  if (!isActionName(name)) {
    throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected an action (${ACTION_NAMES.join(', ')}) but received ${describeValue(name)}`);
  }
  const def: ActionDef = ACTIONS[name];
  if (def.support === 'extension' && !options.extensions) {
    throw processError('INVALID_ARGUMENT', 'NotImplemented', `Expected an OSS action but received ${describeValue(name)}, an imgpipe extension that is off (enable extensions to use it)`, { action: name });
  }
  const raw = new Map<string, string>();
  for (const token of tokens) {
    if (token.length === 0) continue;
    const cut = token.indexOf('_');
    const key = cut > 0 ? token.slice(0, cut) : undefined;
    let param: string, value: string;
    if (key !== undefined && key in def.params && key !== def.positional) {
      param = key;
      value = token.slice(cut + 1);
    } else if (def.positional !== undefined && !raw.has(def.positional)) {
      param = def.positional;
      value = token;
    } else {
      const known = Object.keys(def.params).filter((p) => p !== def.positional);
      throw processError(
        'INVALID_ARGUMENT', 'InvalidArgument',
        `Expected ${known.length ? `a parameter of ${name} (${known.join(', ')})` : `no parameters for ${name}`} but received ${describeValue(token)}`,
        { action: name },
      );
    }
    if (raw.has(param)) {
      throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected ${name}.${param} once but received it twice`, { action: name, param });
    }
    raw.set(param, value);
  }
  if (def.requireOneOf && !def.requireOneOf.some((p) => raw.has(p))) {
    throw processError(
      'MISSING_ARGUMENT', 'MissingArgument',
      missingMessage(name, def.requireOneOf),
      { action: name, param: def.requireOneOf.join(','), ec: def.missingEc },
    );
  }
  const params: Record<string, unknown> = {};
  for (const [param, paramDef] of Object.entries(def.params)) {
    const value = raw.get(param);
    if (value !== undefined) params[param] = parseParam(paramDef, value, name, param);
    else if (paramDef.default !== undefined) params[param] = paramDef.default;
  }
  def.validate?.(params as never);
  // The table guarantees the shape: every key was checked by its own spec above.
  return Object.freeze({ action: name, params: Object.freeze(params) }) as unknown as Operation;
}
