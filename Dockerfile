# syntax=docker/dockerfile:1
# One image for every bytegate server: the gateway (default CMD) or one subgraph
# (`node dist/subgraphs/main.js users|tenants|metrics`), one process per container. See README "Deploying".
ARG NODE_IMAGE=node:20.20-bookworm-slim

# Build: every dependency (TypeScript is a dev dependency), then tsc → dist/ (tsconfig.build.json).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` would build before the sources are copied; tsc needs no install script.
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn
COPY . .
RUN npm run build

# Runtime: production dependencies, the compiled output, no sources, no compiler, not root.
FROM ${NODE_IMAGE} AS runtime
# NODE_ENV=production: a process refuses to start on the public development secrets.
# HOST=0.0.0.0: reachable from other containers. DATA_DIR: the embedded warehouse's files (a volume).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --omit=dev: no compiler, test or bench packages. --ignore-scripts: `prepare` (tsc) is a dev tool; the
# production install scripts are not needed — DuckDB's and esbuild's native binaries come as prebuilt
# optional packages for this platform (@duckdb/node-bindings-linux-*, @esbuild/linux-*), and protobufjs's
# postinstall only prints version warnings. Installing here (not copying the build stage's node_modules)
# keeps the dev dependencies out of the image by construction.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn && npm cache clean --force --loglevel=warn
# dist/ with its build stamp (dist/.built): without tsconfig.build.json here, scripts/freshDist.js takes
# it as built and never rebuilds (so `npm run token`/`seed` work in a container too).
COPY --from=build /app/dist ./dist
COPY scripts/freshDist.js ./scripts/freshDist.js
# Read at the repository's root (common/repositoryRoot.ts), here /app, at run time: package.json (above:
# the version), and the console's browser sources, which esbuild bundles on the console's first request —
# gateway/console/app/ and the one source outside it that it imports.
COPY gateway/console/app ./gateway/console/app
COPY common/units.ts ./common/units.ts
COPY deploy/healthcheck.js ./deploy/healthcheck.js
RUN mkdir -p /data && chown 1000:1000 /data
# The base image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 4000 4001 4002 4003
# No curl in slim images: node asks this container's server for /healthz (gateway or subgraph: its port).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "deploy/healthcheck.js"]
CMD ["node", "dist/gateway/main.js"]
