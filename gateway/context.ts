/** What every stage of the gateway's request path shares: the per-request context and Apollo's logger. */
import type { ApolloServerOptions, BaseContext } from '@apollo/server';
import type { Principal } from '../common/principal';
import type { CostContext } from './admission/operationCost';

export interface GatewayContext extends BaseContext, CostContext {
  /** From the verified token (auth/): the only source of the tenant. */
  readonly principal: Principal;
  /** x-request-id (common/log.ts): answered in the response header, passed to every subgraph fetch. */
  readonly requestId: string;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
}

/** The logger Apollo Server and Apollo Gateway take (and the gateway's own stages use). */
export type ApolloLogger = NonNullable<ApolloServerOptions<BaseContext>['logger']>;
