#!/usr/bin/env node
// The `archive-seal` command; `npm run build` (or `npm start`) compiles dist/ first.
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('archive-seal: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
});
