/**
 * The image's HEALTHCHECK (Dockerfile): exits 0 when this container's server answers GET /healthz with
 * 200, else 1. One image runs the gateway (PORT) or one subgraph (USERS_PORT, TENANTS_PORT,
 * METRICS_PORT; default PORT+1, +2, +3, as common/config.ts reads them), one per container, so it asks
 * each of those ports and is healthy when one answers 200: the others are closed in this container.
 * Plain JavaScript: the runtime image has node, not curl, and no TypeScript.
 */
'use strict';
const http = require('node:http');

const TIMEOUT_MS = 3000;

const env = process.env;
const port = Number(env.PORT || 4000);
const ports = [...new Set([
  port,
  Number(env.USERS_PORT || port + 1),
  Number(env.TENANTS_PORT || port + 2),
  Number(env.METRICS_PORT || port + 3),
])];
// A server bound to every address (HOST=0.0.0.0 or ::) answers on loopback; one bound to one address, there.
const host = !env.HOST || env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;

function healthy(p) {
  return new Promise((resolve) => {
    const request = http.get({ host, port: p, path: '/healthz', timeout: TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

Promise.all(ports.map(healthy)).then((answers) => process.exit(answers.some(Boolean) ? 0 : 1));
