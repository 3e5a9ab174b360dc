/**
 * `imgpipe transform <input> '<x-oss-process string>' -o <output>`: the same grammar as OSS and the
 * HTTP handler, on a local file. `-o -` writes to stdout; a string that answers JSON (info, average-hue,
 * deblindwatermark) prints it when there is no -o. `--extensions` enables imgpipe's own actions; `--key`
 * is the blind watermark's key.
 * Exit status: 0 done, 1 the image or the process string was refused, 2 usage error.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { isImgpipeError } from '../../entries/node.js';
import { transform } from '../../src/index.js';
import { parseProcess } from '../../src/index.js';
import { ACTIONS, writableRows, type ActionDef, type Operation } from '../../src/index.js';

const USAGE = `Usage: imgpipe transform <input> '<x-oss-process string>' [-o <output>] [--extensions] [--key <blind watermark key>]
  e.g. imgpipe transform photo.jpg 'image/resize,w_300/format,webp' -o photo.webp
       imgpipe transform photo.jpg 'image/resize,w_300' -o small.webp  (no format action: the extension picks it)
       imgpipe transform leaked.jpg 'image/deblindwatermark'     (prints the JSON answer)`;

export async function transformCommand(argv: string[]): Promise<number> {
  const positional: string[] = [];
  let output: string | undefined;
  let extensions = false;
  let key: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-o' || a === '--out' || a === '--output') {
      output = argv[++i];
      if (output === undefined) return usage(`${a} needs a value`);
    } else if (a === '--key') {
      key = argv[++i];
      if (key === undefined) return usage(`${a} needs a value`);
    } else if (a === '--extensions') extensions = true;
    else if (a === '-h' || a === '--help') { process.stdout.write(`${USAGE}\n`); return 0; }
    else if (a.startsWith('-') && a !== '-') return usage(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 2) return usage(`expected an input file and a process string but received ${positional.length} argument(s)`);
  const [input, processString] = positional;
  try {
    const ops = parsed(processString, extensions);
    if (output === undefined && !answersJson(ops)) return usage('expected -o <output>');
    const bytes = new Uint8Array(await readFile(input));
    const result = await transform(bytes, withOutputFormat(processString, ops, output), { extensions, blindWatermark: { key } });
    if (output === undefined) {
      process.stdout.write(`${new TextDecoder().decode(result.bytes)}\n`);
    } else if (output === '-') {
      process.stdout.write(result.bytes);
    } else {
      await mkdir(dirname(output), { recursive: true });
      await writeFile(output, result.bytes);
      process.stderr.write(`${output}: ${result.format === 'json' ? 'JSON' : `${result.format} ${result.width}x${result.height}`}, ${result.bytes.byteLength} bytes\n`);
    }
    return 0;
  } catch (e) {
    if (isImgpipeError(e)) {
      const oss = typeof e.details?.ossCode === 'string' ? ` (${e.details.ossCode})` : '';
      process.stderr.write(`imgpipe: ${e.code}${oss}: ${e.message}\n`);
      return 1;
    }
    if ((e as NodeJS.ErrnoException)?.code === 'ENOENT') {
      process.stderr.write(`imgpipe: cannot read ${input}: no such file\n`);
      return 1;
    }
    throw e;
  }
}

/** The string's operations, or undefined when it is refused: transform itself then says why. */
function parsed(processString: string, extensions: boolean): readonly Operation[] | undefined {
  try {
    return parseProcess(processString, { extensions });
  } catch {
    return undefined;
  }
}

/** Whether the action answers JSON, not an image (info, averagehue, deblindwatermark, ...). */
const isTerminal = (op: Operation): boolean => (ACTIONS[op.action] as ActionDef).terminal === true;

/**
 * The string with `/format,<name>` appended when it has no `format` action and the output file's
 * extension is one of a writable format's (`-o photo.webp`: WebP), as sharp's `toFile` picks the format
 * from the file name. A `format` in the string wins; other names and `-o -` keep OSS's rule (the
 * source's format).
 */
function withOutputFormat(processString: string, ops: readonly Operation[] | undefined, output: string | undefined): string {
  if (output === undefined || output === '-' || ops === undefined) return processString;
  const ext = extname(output).slice(1).toLowerCase();
  const row = writableRows().find((f) => f.extensions.includes(ext));
  if (!row || ops.some((op) => op.action === 'format' || isTerminal(op))) return processString;
  return `${processString.replace(/\/+$/, '')}/format,${row.oss.name}`;
}

/** Whether the string ends with an action that answers JSON (a refused string: transform says why). */
function answersJson(ops: readonly Operation[] | undefined): boolean {
  if (ops === undefined) return true;
  const last = ops[ops.length - 1];
  return last !== undefined && isTerminal(last);
}

function usage(message: string): number {
  process.stderr.write(`imgpipe transform: ${message}\n${USAGE}\n`);
  return 2;
}
