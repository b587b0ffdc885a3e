/** bytegate's version (package.json): BigQuery job labels carry it, for cost attribution by release. */
export const VERSION = (require('../package.json') as { version: string }).version;
