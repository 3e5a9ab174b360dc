/**
 * What the module A/B scripts share (bench/jpeg-module-ab.mjs, bench/png-module-ab.mjs): builds of one
 * WebAssembly module timed against each other in one process, taking turns. Warm-up runs first (V8
 * optimises a function only after it has run a while), then `runs` rounds in which every module
 * decodes once, the order reversed on odd rounds so that no module always runs first or follows the
 * same one (the first of a pair otherwise keeps a few percent's advantage). Prints each phase's median
 * and its ratio to the first module's.
 *
 * @param {object} o
 * @param {string[]} o.names the modules' paths, as given (list the first twice: the A/A pair is the noise floor)
 * @param {object[]} o.instances their instances' exports, in the same order
 * @param {(exports: object) => number[]} o.run one timed run: a time (ms) per phase
 * @param {string[]} o.phases the phases' names, in `run`'s order
 * @param {number} o.runs timed rounds
 * @param {number} o.warmups untimed runs of each module first
 * @param {string} [o.note] what the medians are of, printed after the count
 */
export function runModuleAb({ names, instances, run, phases, runs, warmups, note = '' }) {
  for (const e of instances) for (let i = 0; i < warmups; i++) run(e);
  const times = instances.map(() => phases.map(() => []));
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? [...instances.keys()].reverse() : [...instances.keys()];
    for (const k of order) run(instances[k]).forEach((t, j) => times[k][j].push(t));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const medians = times.map((perPhase) => perPhase.map(median));
  console.log(`medians of ${runs} runs${note}; each phase also as a ratio to the first module's`);
  names.forEach((name, k) => {
    const cells = phases.map((p, j) => `${p} ${medians[k][j].toFixed(2)} ms ${(medians[k][j] / medians[0][j]).toFixed(3)}x`);
    console.log(`${name.padEnd(40)} ${cells.join('   ')}`);
  });
}
