/** The gateway: `buildGateway` (unstarted, not listening) and `startGateway`, which serves it over HTTP. */
import type { Config } from '../common/config';
import { type ServedEndpoint, serve } from '../common/http/graphqlHttpServer';
import { type GatewayDeps, buildGateway } from './buildGateway';

export { type Gateway, type GatewayDeps, buildGateway } from './buildGateway';

/** The served gateway (stopping it stops Apollo Server and the gateway). */
export type RunningGateway = ServedEndpoint;

/** Starts the gateway and serves it on config.port (0: any free port) of `host` (default 127.0.0.1). */
export async function startGateway(config: Config, deps: GatewayDeps & { host?: string }): Promise<RunningGateway> {
  const { apollo, httpServer } = buildGateway(config, deps);
  await apollo.start();
  return serve(httpServer, apollo, config.port, deps.host);
}
