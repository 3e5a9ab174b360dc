/** The worker script of `createWorkerPool` (wasm/pool.ts), built to `dist/pool-worker.js`. */
import { serveEncodes } from './pool-serve.js';

serveEncodes();
