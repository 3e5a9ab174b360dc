/**
 * Loop protection. A handler that writes into the bucket it is triggered from re-triggers itself
 * unless its outputs fall outside the trigger's filter. Three guards:
 *
 * 1. at start-up, a same-bucket configuration whose output prefixes overlap the source prefix is
 *    refused (so a mistake fails the deployment's first invocation, not the bill);
 * 2. per event, a key under an output prefix in the target bucket is skipped;
 * 3. per object, a source carrying imgpipe's metadata marker is skipped (covers outputs renamed or
 *    copied elsewhere, and templates whose prefix is not static).
 */
import { ImgpipeError, describeValue } from '../../src/index.js';

/** User metadata keys imgpipe writes on every output (without the `x-oss-meta-` prefix). */
export const META_SOURCE_KEY = 'imgpipe-source-key';
export const META_SOURCE_ETAG = 'imgpipe-source-etag';
export const META_STATUS = 'imgpipe-status';
/** Hash of the recipe that made the output (see `recipeHash`). */
export const META_RECIPE = 'imgpipe-recipe';

/** The fixed part of a key template, before its first placeholder. */
export function staticPrefix(template: string): string {
  const i = template.indexOf('{');
  return i < 0 ? template : template.slice(0, i);
}

/** True when keys under `a` and keys under `b` can coincide (one prefix contains the other). */
function overlaps(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

export function checkNoSelfTrigger(config: { sameBucket: boolean; sourcePrefix: string; outputTemplates: readonly string[] }): void {
  if (!config.sameBucket) return;
  for (const template of config.outputTemplates) {
    const prefix = staticPrefix(template);
    if (overlaps(prefix, config.sourcePrefix)) {
      throw new ImgpipeError(
        'INVALID_ARGUMENT',
        `Refusing a configuration that would re-trigger itself: output key template ${describeValue(template)} writes under ${describeValue(prefix)}, which overlaps the source prefix ${describeValue(config.sourcePrefix)} in the same bucket. Set sourcePrefix to the trigger's filter prefix (e.g. "uploads/") outside every output prefix, or set targetBucket to another bucket`,
        { details: { template, outputPrefix: prefix, sourcePrefix: config.sourcePrefix } },
      );
    }
  }
}

/** Where `imgpipe backfill --state-in-bucket` keeps a job's state in the target bucket: never a source. */
export const JOB_STATE_PREFIX = '_backfill/';

/** Is `key` something this handler, or a backfill's job state, wrote (judged by its key alone)? */
export function isOutputKey(key: string, outputTemplates: readonly string[]): boolean {
  if (key.startsWith(JOB_STATE_PREFIX)) return true;
  return outputTemplates.some((t) => {
    const p = staticPrefix(t);
    return p !== '' && key.startsWith(p);
  });
}

/** Is this object's metadata imgpipe's marker? Accepts bare keys and full `x-oss-meta-` keys (events). */
export function hasOutputMarker(meta: Readonly<Record<string, string>> | undefined): boolean {
  if (!meta) return false;
  return META_SOURCE_KEY in meta || `x-oss-meta-${META_SOURCE_KEY}` in meta;
}
