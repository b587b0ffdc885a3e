/** The gateway: `buildGateway` (unstarted, not listening) and `startGateway`, which serves it over HTTP. */
import type { Config } from '../common/config';
import { close, listen } from '../common/http/graphqlHttpServer';
import { type GatewayDeps, buildGateway } from './buildGateway';

export { type Gateway, type GatewayContext, type GatewayDeps, buildGateway } from './buildGateway';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:4000/graphql */
  readonly url: string;
  /** Stops accepting requests, then stops Apollo Server and the gateway. */
  close(): Promise<void>;
}

/** Starts the gateway and serves it on config.port (0: any free port) of `host` (default 127.0.0.1). */
export async function startGateway(config: Config, deps: GatewayDeps & { host?: string }): Promise<RunningGateway> {
  const { apollo, httpServer } = buildGateway(config, deps);
  await apollo.start();
  const host = deps.host ?? '127.0.0.1';
  const port = await listen(httpServer, config.port, host);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/graphql`,
    async close() {
      await close(httpServer);
      await apollo.stop();
    },
  };
}
