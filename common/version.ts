/** bytegate's version (package.json): BigQuery job labels carry it, for cost attribution by release. */
import path from 'node:path';
import { REPOSITORY_ROOT } from './repositoryRoot';

export const VERSION = (require(path.join(REPOSITORY_ROOT, 'package.json')) as { version: string }).version;
