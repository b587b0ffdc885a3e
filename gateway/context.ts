/** The gateway's per-request context: what the stages of its request path know of an operation. */
import type { BaseContext } from '@apollo/server';
import type { Principal } from '../common/principal';
import type { CostContext } from './admission/operationCost';

export interface GatewayContext extends BaseContext, CostContext {
  /** From the verified token (auth/): the only source of the tenant. */
  readonly principal: Principal;
  /** x-request-id (common/log.ts): answered in the response header, passed to every subgraph fetch. */
  readonly requestId: string;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /**
   * The HTTP batch the operation came in (one id per batch; none for an operation sent alone), signed
   * into its subgraph fetches so a subgraph can share lookups among the batch's operations.
   */
  readonly batch?: string;
}
