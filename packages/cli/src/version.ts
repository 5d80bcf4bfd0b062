import pkg from '../package.json';

/** The @ganpo/cli version (from package.json, inlined at build time). */
export const VERSION: string = pkg.version;
