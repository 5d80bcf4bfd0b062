import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

// Two entry points: index (Node: worker_threads host) and browser (Web Workers host, no Node built-ins).
export default defineConfig({ ...libraryBuild, entry: ['src/index.ts', 'src/browser.ts'] });
