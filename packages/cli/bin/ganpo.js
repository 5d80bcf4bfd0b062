#!/usr/bin/env node
// The `ganpo` executable as npm links it (node_modules/.bin/ganpo). It is a committed file, not a build
// output, so that `npm ci` on a fresh clone can link it before anything is built; it runs the built CLI.
import('../dist/bin.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/bin.js')) {
    process.stderr.write('ganpo: the CLI is not built yet: run `npm run build` in the repository root first\n');
    process.exit(1);
  }
  throw e;
});
