/**
 * PNG chunk CRCs natively where Node has zlib.crc32 (20.15 and later; older versions keep the
 * JavaScript one): ~13 ms of a 10 MB PNG's decode become ~1. Imported for its effect by the Node
 * entry and by the worker pool's script, whose threads decode PNG rows and transforms too.
 */
import * as zlib from 'node:zlib';
import { setPlatformCrc32 } from '../src/codecs/png-chunks.js';

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
if (typeof nativeCrc32 === 'function') setPlatformCrc32((data) => nativeCrc32(data));
