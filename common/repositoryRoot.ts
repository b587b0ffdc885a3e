/**
 * Where bytegate's code runs from: compiled into dist/ (tsconfig.build.json; what npm's scripts run with
 * plain node) or the TypeScript sources themselves (tsx, jest). Files that are not code — package.json,
 * schema/, the console's browser sources — stay at the repository's root either way.
 */
import path from 'node:path';

/** Whether this is the compiled JavaScript in dist/ (this file is then dist/common/repositoryRoot.js). */
export const COMPILED = path.extname(__filename) === '.js';

/** The repository's root folder: this file's folder's parent, one more level up from dist/. */
export const REPOSITORY_ROOT = path.resolve(__dirname, COMPILED ? '../..' : '..');
