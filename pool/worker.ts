/** The worker script of `createWorkerPool` (pool/index.ts), built to `dist/pool-worker.js`. */
import '../entries/node-crc.js';
import { serveEncodes } from './serve.js';

serveEncodes();
