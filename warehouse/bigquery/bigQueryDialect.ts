/**
 * GoogleSQL spelling of the SqlDialect, and our typed QueryParams as the BigQuery client's named
 * `params` + `types` (the client needs TIMESTAMP/DATE values wrapped, and explicit types for NULLs
 * and empty arrays, which it cannot infer).
 */
import { BigQuery } from '@google-cloud/bigquery';
import type { QueryParam, SqlDialect } from '../warehouse';

export function bigQueryDialect(projectId: string, dataset: string): SqlDialect {
  return {
    name: 'bigquery',
    table: (name) => `\`${projectId}.${dataset}.${name}\``,
    param: (name) => `@${name}`,
    inArray: (expression, name) => `${expression} IN UNNEST(@${name})`,
    flatten: (arrayExpression, alias) => ({ select: alias, from: `, UNNEST(${arrayExpression}) AS ${alias}` }),
    ident: (name) => `\`${name}\``,
    byteLength: (expression) => `BYTE_LENGTH(${expression})`,
    sumOver: (arrayExpression, element, expression) => `(SELECT SUM(${expression}) FROM UNNEST(${arrayExpression}) AS ${element})`,
  };
}

export type BigQueryParamType = 'STRING' | 'INT64' | 'DATE' | 'TIMESTAMP' | ['STRING'];

/** The parameters `sql` references (`@name`), as the client's named `params` and `types`. */
export function toBigQueryParams(sql: string, params: Readonly<Record<string, QueryParam>>): {
  params: Record<string, unknown>;
  types: Record<string, BigQueryParamType>;
} {
  const values: Record<string, unknown> = {};
  const types: Record<string, BigQueryParamType> = {};
  for (const [name, param] of Object.entries(params)) {
    if (!new RegExp(`@${name}\\b`).test(sql)) continue;
    switch (param.type) {
      case 'STRING':
        values[name] = param.value;
        types[name] = 'STRING';
        break;
      case 'INT64':
        if (!Number.isSafeInteger(param.value)) throw new TypeError(`Parameter ${name} is not an integer: ${param.value}`);
        values[name] = String(param.value);
        types[name] = 'INT64';
        break;
      case 'DATE':
        values[name] = BigQuery.date(param.value);
        types[name] = 'DATE';
        break;
      case 'TIMESTAMP':
        values[name] = BigQuery.timestamp(param.value);
        types[name] = 'TIMESTAMP';
        break;
      case 'STRING_ARRAY':
        values[name] = [...param.value];
        types[name] = ['STRING'];
        break;
    }
  }
  return { params: values, types };
}
