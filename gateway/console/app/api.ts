/** GraphQL over HTTP to the gateway, as the signed-in user; errors keep their codes. */
import type { Session } from './session';

export interface GraphqlError {
  readonly message: string;
  readonly extensions?: { readonly code?: string; readonly cost?: Cost };
}

/** `extensions.cost` (README: the fields of extensions.cost). */
export interface Cost {
  readonly mode?: string;
  readonly estimatedBytes?: number;
  readonly estimatedBilledBytes?: number;
  readonly estimatedUsd?: number;
  readonly estimatedWarehouseQueries?: number;
  readonly limitBytes?: number;
  readonly points?: number;
  readonly limitPoints?: number;
  readonly actualBytes?: number;
  readonly billedBytes?: number;
  readonly billedUsd?: number;
  readonly warehouseQueries?: number;
  readonly cacheHits?: number;
  readonly responseCache?: string;
  readonly budget?: { readonly user?: BudgetCounter; readonly tenant?: BudgetCounter };
  readonly jobs?: readonly Job[];
}

export interface BudgetCounter {
  readonly limitBytes: number | null;
  readonly usedBytes: number;
  readonly remainingBytes: number | null;
  readonly resetsAt: string;
}

/** A warehouse job of the estimate (`x-cost-mode: estimate` only). */
export interface Job {
  readonly subgraph: string;
  readonly query: string;
  readonly path: string;
  readonly tables: readonly {
    readonly table: string;
    readonly columns: readonly string[];
    readonly days: { readonly from: string; readonly to: string } | null;
    /** Each column's share of one run's bytes. */
    readonly columnBytes?: Readonly<Record<string, number>>;
  }[];
  /** Runs of the job (one per batch of keys). */
  readonly times: number;
  /** Of one run. */
  readonly processedBytes: number;
  readonly billedBytes: number;
}

export interface GraphqlResponse<T> {
  readonly data?: T | null;
  readonly errors?: readonly GraphqlError[];
  readonly extensions?: { readonly cost?: Cost };
}

export async function graphql<T>(session: Session, query: string, variables?: Record<string, unknown>, options: { estimate?: boolean; signal?: AbortSignal } = {}): Promise<GraphqlResponse<T>> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${session.token}`,
      ...(options.estimate ? { 'x-cost-mode': 'estimate' } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: options.signal,
  });
  return (await response.json()) as GraphqlResponse<T>;
}

/** The data of a response that must have some: throws with the errors' messages and codes otherwise. */
export async function query<T>(session: Session, text: string, variables?: Record<string, unknown>): Promise<T> {
  const result = await graphql<T>(session, text, variables);
  if (result.errors?.length || !result.data) {
    throw new Error((result.errors ?? [{ message: 'No data.' }]).map((e) => `${e.message}${e.extensions?.code ? ` (${e.extensions.code})` : ''}`).join('; '));
  }
  return result.data;
}
