#!/usr/bin/env -S node --no-memory-reducer --heap-growing-percent=100
// The `archive-seal` command; `npm run build` (or `npm start`) compiles dist/ first.
// The V8 flags (here and in `npm start`; they cannot be set once the process runs,
// v8.setFlagsFromString came too late), both found on GiB uploads of 2026-12-06:
// - --no-memory-reducer: the reducer shrinks an idle process's heap limits, and a center is idle
//   between uploads. The next GiB then ran with a mark-compact every ~50 ms (the GC threads took
//   1.8 s of CPU per GiB): 237-262 MB/s, against 340-370 with the reducer off (no chain, 15 s idle).
// - --heap-growing-percent=100: the old generation may grow to twice what survived the last
//   mark-compact before the next. With the embedded chain, V8 had set that growth to ~1.35 and a
//   GiB took 59-70 mark-compacts: 221-247 MB/s, against 7-20 and 294-332 MB/s (two pairs of
//   server starts, two uploads each, after 15 s idle).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('archive-seal: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
});
