// An encode worker that dies on purpose when asked for quality 13 (or a transform with a 13,000,013 byte
// limit), standing in for a worker killed by
// a crash or the out-of-memory killer; every task also reaches the real worker (dist/pool-worker.js),
// whose own handler yields before encoding, so the exit comes first.
import '../../dist/pool-worker.js';
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (task) => {
  if (task.options.quality === 13 || task.options.limits?.maxBytes === 13_000_013) process.exit(3);
});
