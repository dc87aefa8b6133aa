#!/usr/bin/env -S node --no-memory-reducer
// The `archive-seal` command; `npm run build` (or `npm start`) compiles dist/ first.
// --no-memory-reducer (here and in `npm start`): V8's memory reducer shrinks an idle process's heap
// limits, and a center is idle between uploads. The next GiB uploaded then ran with a
// mark-compact every ~50 ms: the GC threads took 1.8 s of CPU per GiB and the upload 237-262 MB/s,
// against 340-370 with the reducer off (after 15 s idle, three uploads each, 2026-12-06). It
// cannot be switched off once the process runs (v8.setFlagsFromString came too late).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('archive-seal: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
});
