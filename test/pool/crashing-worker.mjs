// An encode worker that dies on purpose when asked for quality 13, standing in for a worker killed by
// a crash or the out-of-memory killer; every task also reaches the real worker (dist/pool-worker.js),
// whose own handler yields before encoding, so the exit comes first.
import '../../dist/pool-worker.js';
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (task) => {
  if (task.options.quality === 13) process.exit(3);
});
