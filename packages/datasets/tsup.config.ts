import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

// Two entry points: index (Node: adds the file-system modules) and browser (no Node built-ins).
export default defineConfig({ ...libraryBuild, entry: ['src/index.ts', 'src/browser.ts'] });
