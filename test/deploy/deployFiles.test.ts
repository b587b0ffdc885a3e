/**
 * The deployment files — Dockerfile, .dockerignore, compose.yaml, deploy/k8s/ — against what they rely
 * on in this repository, without a container engine: every variable they set is one the sources read,
 * every command they run is an entry the build compiles, every port and URL agrees with the process
 * listening there, the probes are /healthz and /readyz, the image runs as non-root with what the
 * processes read at run time, and a stop gives requests in flight their time. The image's healthcheck
 * script runs for real against a local server.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { SUBGRAPH_NAMES } from '../../common/config';

const ROOT = path.join(__dirname, '../..');
const K8S_DIR = 'deploy/k8s';
/** What a secret looks like by name: never a literal in compose, never a ConfigMap key in Kubernetes. */
const SECRET_VARS = ['JWT_SECRET', 'SUBGRAPH_SECRET', 'SUBGRAPH_SECRET_PREVIOUS', 'DATABASE_URL'];

describe('the variables the files set', () => {
  test('are read by the sources the build compiles (the set is found in their text)', () => {
    const read = envVarsReadBySources();
    // The scan itself finds what the sources read through env.X, env['X'] and intVar(env, 'X', …).
    for (const name of ['PORT', 'REDIS_URL', 'HOST', 'SHUTDOWN_DELAY_MS', 'NODE_ENV']) expect(read.has(name)).toBe(true);
    expect(read.has('NOT_A_VARIABLE')).toBe(false);

    const set = [
      ...dockerfile().final.env.map(([name]) => ({ where: 'Dockerfile ENV', name })),
      ...Object.entries(composeServices()).filter(([, s]) => isBytegate(s)).flatMap(([service, s]) => Object.keys(s.environment ?? {}).map((name) => ({ where: `compose ${service}`, name }))),
      ...k8sDocs('ConfigMap').flatMap((map) => Object.keys(map.data ?? {}).map((name) => ({ where: `ConfigMap ${map.metadata.name}`, name }))),
      ...k8sContainers().flatMap(({ deployment, container }) => (container.env ?? []).map(({ name }) => ({ where: `Deployment ${deployment}`, name }))),
    ];
    expect(set.length).toBeGreaterThan(20);
    expect(set.filter(({ name }) => !read.has(name))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  test('builds in one stage and runs from another, on a Node the package supports', () => {
    const { stages, final } = dockerfile();
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => stage.runs.some((run) => /\bnpm run build\b/.test(run)));
    expect(build).toBeDefined();
    expect(build).not.toBe(final);
    expect(build!.runs.some((run) => /\bnpm ci\b/.test(run))).toBe(true);
    expect(packageJson().scripts.build).toBeDefined();
    // engines ">=20.19": the image's node:MAJOR.MINOR must satisfy it.
    const [, major, minor] = /^node:(\d+)\.(\d+)/.exec(final.image) ?? [];
    const [, wantMajor, wantMinor] = /^>=(\d+)\.(\d+)/.exec(packageJson().engines.node) ?? [];
    expect(Number(major) * 1000 + Number(minor)).toBeGreaterThanOrEqual(Number(wantMajor) * 1000 + Number(wantMinor));
  });

  test('installs production dependencies only, without install scripts, from the lockfile', () => {
    const { final } = dockerfile();
    const install = final.runs.find((run) => /\bnpm ci\b/.test(run));
    expect(install).toMatch(/--omit=dev\b/);
    expect(install).toMatch(/--ignore-scripts\b/);
    expect(final.inImage('package.json')).toBe(true);
    expect(final.inImage('package-lock.json')).toBe(true);
  });

  test('--ignore-scripts skips no production install script that matters: the native binaries come prebuilt', () => {
    const packages = lockfile().packages;
    const prodScripts = Object.entries(packages).filter(([name, p]) => name && p.hasInstallScript && !p.dev).map(([name]) => name.replace(/^.*node_modules\//, ''));
    // esbuild's postinstall checks (and may relink) the binary its optional @esbuild/<platform> package
    // brings; protobufjs's only warns about version schemes. A new one must be looked at, then listed.
    expect(prodScripts.sort()).toEqual(['@apollo/protobufjs', 'esbuild', 'protobufjs']);
    for (const prefix of ['@duckdb/node-bindings-linux-', '@esbuild/linux-']) {
      for (const cpu of ['x64', 'arm64']) {
        const binary = Object.entries(packages).find(([name, p]) => name.endsWith(`${prefix}${cpu}`) && !p.dev && !(p.libc ?? []).includes('musl'));
        expect([prefix + cpu, binary?.[1].optional]).toEqual([prefix + cpu, true]);
      }
    }
  });

  test('runs as a numeric non-root user, in production mode, reachable from other containers', () => {
    const { final } = dockerfile();
    expect(final.user).toMatch(/^\d+(:\d+)?$/); // by number: Kubernetes' runAsNonRoot can check it
    expect(uid(final.user!)).not.toBe(0);
    const env = Object.fromEntries(final.env);
    expect(env.NODE_ENV).toBe('production');
    expect(isLoopback(env.HOST ?? '127.0.0.1')).toBe(false);
    // DATA_DIR exists and belongs to that user (a named volume mounted there takes its owner).
    expect(env.DATA_DIR).toBeDefined();
    expect(final.runs.some((run) => run.includes(`mkdir -p ${env.DATA_DIR}`) && run.includes(`chown ${final.user} ${env.DATA_DIR}`))).toBe(true);
  });

  test('carries the compiled output and what the processes read at the repository root at run time', () => {
    const { final } = dockerfile();
    expect(final.copiesFromStage.some(([from, to]) => from === '/app/dist' && to === `${final.workdir}/dist`)).toBe(true);
    // scripts/freshDist.js, which every npm script preloads, takes dist/ as built without tsconfig.build.json.
    expect(final.inImage('scripts/freshDist.js')).toBe(true);
    expect(final.inImage('tsconfig.build.json')).toBe(false);
    // The console: gateway/console/bundle.ts bundles its browser sources from the repository root.
    const bundle = read('gateway/console/bundle.ts');
    const [, appDir] = /path\.join\(REPOSITORY_ROOT, '([^']+)'\)/.exec(bundle) ?? [];
    expect(appDir).toBe('gateway/console/app');
    expect(final.inImage(`${appDir}/main.tsx`)).toBe(true);
    for (const outside of importsLeaving(appDir)) expect([outside, final.inImage(outside)]).toEqual([outside, true]);
  });

  test('checks its health with node on /healthz, exposes the servers\' ports, and starts the gateway by default', () => {
    const { final } = dockerfile();
    expect(final.healthcheck).toEqual(['node', 'deploy/healthcheck.js']);
    expect(final.inImage('deploy/healthcheck.js')).toBe(true);
    expect(read('deploy/healthcheck.js')).toContain("path: '/healthz'");
    expect(final.expose.sort()).toEqual(['4000', '4001', '4002', '4003']);
    expect(entryOf(final.cmd)).toEqual({ entry: 'gateway/main.ts', args: [] });
  });

  test('.dockerignore keeps installed and built output out, and nothing the build needs', () => {
    const ignored = dockerignore();
    for (const out of ['node_modules/a/index.js', 'dist/gateway/main.js', '.data/tenants/acme.duckdb', '.env']) expect([out, ignored(out)]).toEqual([out, true]);
    const build = readJson<{ extends?: string; include: string[] }>('tsconfig.build.json');
    const buildScript = /node (\S+\.js)/.exec(packageJson().scripts.build)?.[1];
    expect(buildScript).toBeDefined();
    const needed = [
      'package.json', 'package-lock.json', '.npmrc', 'tsconfig.build.json', build.extends ?? 'tsconfig.json', buildScript!,
      ...build.include.map((folder) => `${folder}/${fs.readdirSync(path.join(ROOT, folder))[0]}`),
      ...dockerfile().final.contextSources,
    ];
    expect(needed.filter((file) => ignored(file.replace(/^\.\//, '')))).toEqual([]);
  });
});

describe('deploy/healthcheck.js', () => {
  test('is healthy when the gateway or a subgraph port answers /healthz 200, unhealthy otherwise', async () => {
    const servers = [await serve(200), await serve(503)];
    const [ok, failing] = servers.map(portOf);
    const closed = await freePort();
    try {
      expect(await healthcheck({ PORT: String(ok) })).toBe(0); // the gateway
      expect(await healthcheck({ PORT: String(closed), METRICS_PORT: String(ok) })).toBe(0); // a subgraph
      expect(await healthcheck({ PORT: String(closed), USERS_PORT: String(failing) })).toBe(1);
      expect(await healthcheck({ PORT: String(closed), USERS_PORT: String(closed), TENANTS_PORT: String(closed), METRICS_PORT: String(closed) })).toBe(1);
    } finally {
      await Promise.all(servers.map(closeServer));
    }
  });
});

describe('compose.yaml', () => {
  test('runs the gateway and each subgraph in its own container of this image, commands that exist', () => {
    const services = composeServices();
    const servers = serverServices();
    expect(servers.map((s) => s.role).sort()).toEqual(['gateway', ...SUBGRAPH_NAMES].sort());
    for (const { service } of servers) expect(isBytegate(services[service])).toBe(true);
    expect(Object.values(services).some((s) => s.image?.startsWith('redis'))).toBe(true);
    expect(Object.values(services).some((s) => s.image?.startsWith('postgres'))).toBe(true);
  });

  test('refuses to start without JWT_SECRET and SUBGRAPH_SECRET, and holds no secret of its own', () => {
    for (const [service, s] of Object.entries(composeServices()).filter(([, s]) => isBytegate(s))) {
      const env = s.environment ?? {};
      for (const name of ['JWT_SECRET', 'SUBGRAPH_SECRET']) expect([service, name, env[name]]).toEqual([service, name, expect.stringMatching(new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`))]);
      for (const name of SECRET_VARS.filter((n) => env[n] !== undefined)) expect([service, name, env[name]]).toEqual([service, name, expect.stringContaining('${')]);
      expect(env.NODE_ENV).toBe('production');
    }
  });

  test('each server listens on a non-loopback HOST and the port the gateway\'s URLs name; the gateway\'s port is published', () => {
    const services = composeServices();
    const servers = serverServices();
    const gateway = servers.find((s) => s.role === 'gateway')!;
    for (const server of servers) expect([server.service, isLoopback(server.env.HOST ?? '127.0.0.1')]).toEqual([server.service, false]);
    for (const name of SUBGRAPH_NAMES) {
      const subgraph = servers.find((s) => s.role === name)!;
      const url = new URL(gateway.env[`${name.toUpperCase()}_URL`]);
      expect([name, url.hostname, url.port, url.pathname]).toEqual([name, subgraph.service, subgraph.port, '/graphql']);
    }
    const published = (services[gateway.service].ports ?? []).map((p) => String(p).split(':').pop());
    expect(published).toContain(gateway.port);
  });

  test('Redis and PostgreSQL: URLs that name them, health checks the servers wait for', () => {
    const services = composeServices();
    const gateway = serverServices().find((s) => s.role === 'gateway')!;
    const redisUrl = new URL(gateway.env.REDIS_URL);
    expect(services[redisUrl.hostname]?.image).toMatch(/^redis:/);
    const database = new URL(gateway.env.DATABASE_URL);
    const postgres = services[database.hostname];
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(database.username).toBe(postgres.environment?.POSTGRES_USER);
    expect(database.pathname).toBe(`/${postgres.environment?.POSTGRES_DB}`);
    expect(decodeURIComponent(database.password)).toBe(postgres.environment?.POSTGRES_PASSWORD);
    for (const { service } of serverServices()) {
      for (const [needed, condition] of Object.entries(dependsOn(services[service]))) {
        expect(services[needed]).toBeDefined();
        expect(condition).toBe('service_healthy');
        if (!isBytegate(services[needed])) expect(services[needed].healthcheck?.test).toBeDefined(); // bytegate's: the image's
      }
    }
    expect(Object.keys(dependsOn(services[gateway.service])).sort()).toEqual([redisUrl.hostname, database.hostname, ...serverServices().filter((s) => s.role !== 'gateway').map((s) => s.service)].sort());
  });

  test('the subgraphs share the DuckDB files on one volume at DATA_DIR', () => {
    const services = composeServices();
    const volumes = parse(read('compose.yaml'), { merge: true }).volumes as Record<string, unknown>;
    const mounts = serverServices().filter((s) => s.role !== 'gateway').map(({ service, env }) => (services[service].volumes ?? []).find((v) => v.endsWith(`:${env.DATA_DIR}`)));
    expect(mounts.every(Boolean)).toBe(true);
    expect(new Set(mounts).size).toBe(1);
    expect(Object.keys(volumes)).toContain(mounts[0]!.split(':')[0]);
    expect(serverServices()[0].env.WAREHOUSE).toBe('duckdb');
  });

  test('a one-shot seed on demand, with npm run seed\'s flags, writing where the subgraphs read', () => {
    const services = composeServices();
    const seed = services.seed;
    expect(seed.profiles).toEqual(['seed']);
    expect(seed.healthcheck).toEqual({ disable: true });
    const { entry, args } = entryOf([...(seed.entrypoint ?? []), ...(seed.command ?? [])]);
    expect(entry).toBe('cli/seed.ts');
    const synopsis = read(entry);
    for (const flag of args.filter((arg) => arg.startsWith('--'))) expect([flag, synopsis.includes(`${flag} `)]).toEqual([flag, true]);
    const users = services[serverServices().find((s) => s.role === 'users')!.service];
    expect(seed.volumes).toEqual(users.volumes);
    expect(seed.environment?.DATA_DIR).toBe(users.environment?.DATA_DIR);
  });

  test('a stop waits longer than SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS (and the stores\' closing)', () => {
    for (const { service, env } of serverServices()) {
      const graceMs = durationMs(composeServices()[service].stop_grace_period ?? '10s');
      expect([service, graceMs]).toEqual([service, expect.any(Number)]);
      expect(graceMs).toBeGreaterThan(shutdownMs(env));
    }
  });
});

describe('deploy/k8s', () => {
  test('kustomization lists every manifest, and the image every container runs', () => {
    const kustomization = parse(read(`${K8S_DIR}/kustomization.yaml`)) as { resources: string[]; images: { name: string }[] };
    const files = fs.readdirSync(path.join(ROOT, K8S_DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(kustomization.resources.sort()).toEqual(files.sort());
    for (const { deployment, container } of k8sContainers()) expect([deployment, container.image.split(':')[0]]).toEqual([deployment, kustomization.images[0].name]);
  });

  test('a Deployment per server, commands that exist, on BigQuery, Redis shared', () => {
    const roles = k8sServers().map((s) => s.role);
    expect(roles.sort()).toEqual(['gateway', ...SUBGRAPH_NAMES].sort());
    for (const server of k8sServers()) {
      expect(server.env.WAREHOUSE).toBe('bigquery'); // DuckDB files cannot be shared by pods
      expect(server.env.BIGQUERY_PROJECT).toBeDefined();
      expect(server.env.REDIS_URL).toMatch(/^rediss?:\/\//);
      expect(server.env.NODE_ENV).toBe('production');
      expect(isLoopback(server.env.HOST ?? '127.0.0.1')).toBe(false);
    }
    const gateway = k8sServers().find((s) => s.role === 'gateway')!;
    expect(gateway.deployment.spec.replicas).toBeGreaterThanOrEqual(2);
  });

  test('secrets come from a Secret by reference, never from the ConfigMap', () => {
    for (const map of k8sDocs('ConfigMap')) for (const name of SECRET_VARS) expect([map.metadata.name, name, map.data?.[name]]).toEqual([map.metadata.name, name, undefined]);
    for (const server of k8sServers()) {
      const env = new Map((server.container.env ?? []).map((e) => [e.name, e]));
      const needed = server.role === 'gateway' ? ['SUBGRAPH_SECRET', 'DATABASE_URL'] : ['SUBGRAPH_SECRET'];
      for (const name of needed) {
        const ref = env.get(name)?.valueFrom?.secretKeyRef;
        expect([server.role, name, ref?.name, ref?.optional ?? false]).toEqual([server.role, name, expect.any(String), false]);
      }
      for (const e of env.values()) if (SECRET_VARS.includes(e.name)) expect([e.name, e.value, e.valueFrom?.secretKeyRef?.key]).toEqual([e.name, undefined, e.name]);
    }
  });

  test('probes: readiness /readyz, liveness and start-up /healthz, on the port the process listens on', () => {
    for (const server of k8sServers()) {
      const { container, port } = server;
      const http = container.ports.find((p) => String(p.containerPort) === port);
      expect([server.role, http?.containerPort]).toEqual([server.role, Number(port)]);
      expect(container.readinessProbe?.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe?.httpGet.path).toBe('/healthz');
      expect(container.startupProbe?.httpGet.path ?? '/healthz').toBe('/healthz');
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        if (probe) expect([server.role, [http!.name, http!.containerPort].includes(probe.httpGet.port)]).toEqual([server.role, true]);
      }
    }
  });

  test('Services select their Deployment, reach its port, and are what the gateway\'s URLs name', () => {
    const services = k8sDocs('Service');
    const gateway = k8sServers().find((s) => s.role === 'gateway')!;
    for (const server of k8sServers()) {
      const labels = server.deployment.spec.template.metadata.labels;
      const service = services.find((s) => Object.entries(s.spec.selector).every(([k, v]) => labels[k] === v));
      expect([server.role, service?.metadata.name]).toEqual([server.role, expect.any(String)]);
      const [servicePort] = service!.spec.ports;
      const target = server.container.ports.find((p) => p.name === servicePort.targetPort || p.containerPort === servicePort.targetPort);
      expect([server.role, target?.containerPort]).toEqual([server.role, Number(server.port)]);
      if (server.role === 'gateway') continue;
      const url = new URL(gateway.env[`${server.role.toUpperCase()}_URL`]);
      expect([server.role, url.hostname, url.port, url.pathname]).toEqual([server.role, service!.metadata.name, String(servicePort.port), '/graphql']);
    }
  });

  test('non-root, read-only root filesystem, DATA_DIR and /tmp on emptyDirs, resources bounded', () => {
    const imageUid = uid(dockerfile().final.user!);
    for (const server of k8sServers()) {
      const pod = server.deployment.spec.template.spec;
      const { container } = server;
      expect([server.role, pod.securityContext?.runAsNonRoot, pod.securityContext?.runAsUser]).toEqual([server.role, true, imageUid]);
      expect(container.securityContext).toEqual(expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }));
      for (const writable of [server.env.DATA_DIR, '/tmp']) {
        const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === writable);
        const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name);
        expect([server.role, writable, volume?.emptyDir]).toEqual([server.role, writable, expect.any(Object)]);
      }
      for (const kind of ['requests', 'limits'] as const) expect(container.resources?.[kind]).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
    }
  });

  test('a stop: out of rotation before it stops accepting, and the grace period outlasts delay + timeout', () => {
    for (const server of k8sServers()) {
      const pod = server.deployment.spec.template.spec;
      const readiness = server.container.readinessProbe!;
      const noticedMs = (readiness.periodSeconds ?? 10) * (readiness.failureThreshold ?? 3) * 1000;
      expect([server.role, Number(server.env.SHUTDOWN_DELAY_MS ?? 0)]).toEqual([server.role, expect.any(Number)]);
      expect(Number(server.env.SHUTDOWN_DELAY_MS)).toBeGreaterThan(noticedMs);
      expect((pod.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(shutdownMs(server.env));
    }
  });

  test('a HorizontalPodAutoscaler (autoscaling/v2) scales the gateway on CPU, which it requests', () => {
    const [hpa] = k8sDocs('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    const gateway = k8sServers().find((s) => s.role === 'gateway')!;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: gateway.deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.map((m: { resource?: { name: string } }) => m.resource?.name)).toEqual(['cpu']);
    expect(gateway.container.resources?.requests?.cpu).toBeDefined();
  });
});

// Private:

function read(file: string): string {
  return fs.readFileSync(path.join(ROOT, file), 'utf8');
}

function readJson<T>(file: string): T {
  return JSON.parse(read(file)) as T;
}

function packageJson(): { scripts: Record<string, string>; engines: { node: string } } {
  return readJson('package.json');
}

function lockfile(): { packages: Record<string, { dev?: boolean; optional?: boolean; hasInstallScript?: boolean; libc?: string[] }> } {
  return readJson('package-lock.json');
}

/** Every variable name the sources tsconfig.build.json compiles read: `env.X`, `env['X']`, `fn(env, 'X', …)`. */
function envVarsReadBySources(): Set<string> {
  const build = readJson<{ include: string[]; exclude?: string[] }>('tsconfig.build.json');
  const excluded = new Set((build.exclude ?? []).map((folder) => path.join(ROOT, folder)));
  const names = new Set<string>();
  const forms = [/\benv\.([A-Z][A-Z0-9_]*)\b/g, /\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g, /\(\s*env\s*,\s*['"]([A-Z][A-Z0-9_]*)['"]/g];
  const walk = (folder: string): void => {
    if (excluded.has(folder)) return;
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts')) for (const form of forms) for (const match of fs.readFileSync(file, 'utf8').matchAll(form)) names.add(match[1]);
    }
  };
  for (const folder of build.include) walk(path.join(ROOT, folder));
  return names;
}

/**
 * The source file a command runs: `node [flags] dist/X.js args…` is X.ts, compiled by tsconfig.build.json
 * (outDir dist, rootDir .) — so X's top folder must be one it includes.
 */
function entryOf(command: readonly string[]): { entry: string; args: string[] } {
  expect(command[0]).toBe('node');
  const at = command.findIndex((arg) => /^dist\/.+\.js$/.test(arg));
  expect(at).toBeGreaterThan(0);
  const entry = command[at].replace(/^dist\//, '').replace(/\.js$/, '.ts');
  const build = readJson<{ compilerOptions: { outDir: string; rootDir: string }; include: string[] }>('tsconfig.build.json');
  expect([build.compilerOptions.outDir, build.compilerOptions.rootDir]).toEqual(['dist', '.']);
  expect(build.include).toContain(entry.split('/')[0]);
  expect([entry, fs.existsSync(path.join(ROOT, entry))]).toEqual([entry, true]);
  return { entry, args: command.slice(at + 1) };
}

/** What a server command is: the gateway, or which subgraph; and the variable naming its port. */
function roleOf(command: readonly string[]): { role: string; portVar: string } | undefined {
  const { entry, args } = entryOf(command);
  if (entry === 'gateway/main.ts') return { role: 'gateway', portVar: 'PORT' };
  if (entry !== 'subgraphs/main.ts') return undefined;
  expect(SUBGRAPH_NAMES).toContain(args[0]);
  return { role: args[0], portVar: `${args[0].toUpperCase()}_PORT` };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function uid(user: string): number {
  return Number(user.split(':')[0]);
}

/**
 * The longest a server takes to stop after SIGTERM: SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS, plus the time
 * its main allows for closing its stores afterwards (STOP_SLACK_MS in gateway/main.ts, subgraphs/main.ts).
 */
function shutdownMs(env: Record<string, string | undefined>): number {
  const slacks = ['gateway/main.ts', 'subgraphs/main.ts'].map((file) => Number(/STOP_SLACK_MS = ([\d_]+)/.exec(read(file))?.[1].replace(/_/g, '') ?? 0));
  return Number(env.SHUTDOWN_DELAY_MS ?? 0) + Number(env.SHUTDOWN_TIMEOUT_MS ?? 10_000) + Math.max(...slacks);
}

/** Compose's durations: 15s, 1m30s, 500ms. */
function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  expect(parts.map((p) => p[0]).join('')).toBe(text);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

/** The relative files the console's browser sources import from outside their folder (with their extension). */
function importsLeaving(appDir: string): string[] {
  const outside = new Set<string>();
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(path.join(ROOT, folder), { withFileTypes: true })) {
      const file = `${folder}/${entry.name}`;
      if (entry.isDirectory()) walk(file);
      else if (/\.tsx?$/.test(file)) {
        for (const [, spec] of read(file).matchAll(/from '(\.[^']+)'/g)) {
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
          if (target.startsWith(`${appDir}/`)) continue;
          const withExtension = ['', '.ts', '.tsx', '/index.ts'].map((ext) => target + ext).find((f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile());
          expect([spec, withExtension]).toEqual([spec, expect.any(String)]);
          outside.add(withExtension!);
        }
      }
    }
  };
  walk(appDir);
  return [...outside];
}

// Private: the Dockerfile.

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly runs: string[];
  readonly env: [string, string][];
  workdir: string;
  user: string | undefined;
  expose: string[];
  cmd: string[];
  healthcheck: string[] | undefined;
  /** `COPY --from=stage SRC DEST`, DEST absolute. */
  readonly copiesFromStage: [string, string][];
  /** Every source of a COPY from the build context. */
  readonly contextSources: string[];
  /** Whether the repository's file `file` is at the same place under WORKDIR, copied from the build context. */
  inImage(file: string): boolean;
}

function dockerfile(): { stages: Stage[]; final: Stage } {
  const lines = read('Dockerfile').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const stage = stages[stages.length - 1];
    switch (keyword.toUpperCase()) {
      case 'ARG': {
        const [name, value] = rest.split('=');
        if (!stage && value !== undefined) args.set(name, value);
        break;
      }
      case 'FROM': {
        const [image, , name] = rest.replace(/\$\{(\w+)\}/g, (_, v: string) => args.get(v) ?? '').split(/\s+/);
        stages.push(newStage(image, name));
        break;
      }
      case 'RUN': stage.runs.push(rest); break;
      case 'ENV': for (const [, k, v] of rest.matchAll(/(\w+)=(\S+)/g)) stage.env.push([k, v]); break;
      case 'WORKDIR': stage.workdir = path.posix.resolve(stage.workdir, rest); break;
      case 'USER': stage.user = rest; break;
      case 'EXPOSE': stage.expose.push(...rest.split(/\s+/)); break;
      case 'CMD': stage.cmd = JSON.parse(rest) as string[]; break;
      case 'HEALTHCHECK': stage.healthcheck = JSON.parse(rest.replace(/^.*?\bCMD\s+/, '')) as string[]; break;
      case 'COPY': copy(stage, rest.split(/\s+/)); break;
      default: break;
    }
  }
  return { stages, final: stages[stages.length - 1] };
}

function newStage(image: string, name: string | undefined): Stage {
  const copies: { src: string; dest: string }[] = [];
  const stage: Stage & { copies: typeof copies } = {
    image, name, runs: [], env: [], workdir: '/', user: undefined, expose: [], cmd: [], healthcheck: undefined, copiesFromStage: [], contextSources: [], copies,
    inImage(file) {
      return copies.some(({ src, dest }) => {
        const source = src.replace(/^\.\//, '').replace(/\/$/, '');
        const isDirectory = fs.existsSync(path.join(ROOT, source)) && fs.statSync(path.join(ROOT, source)).isDirectory();
        if (isDirectory) return file.startsWith(`${source}/`) && path.posix.join(dest, file.slice(source.length)) === path.posix.join(stage.workdir, file);
        return file === source && (dest.endsWith('/') ? path.posix.join(dest, path.posix.basename(source)) : dest) === path.posix.join(stage.workdir, file);
      });
    },
  };
  return stage;
}

function copy(stage: Stage, words: string[]): void {
  const from = words.find((w) => w.startsWith('--from='));
  const paths = words.filter((w) => !w.startsWith('--'));
  const destWord = paths.pop()!;
  const dest = path.posix.resolve(stage.workdir, destWord) + (destWord.endsWith('/') || paths.length > 1 ? '/' : '');
  for (const src of paths) {
    if (from) stage.copiesFromStage.push([src, dest.replace(/\/$/, '')]);
    else {
      stage.contextSources.push(src);
      (stage as Stage & { copies: { src: string; dest: string }[] }).copies.push({ src, dest });
    }
  }
}

/** Whether .dockerignore keeps `file` (relative, /-separated) out of the build context. */
function dockerignore(): (file: string) => boolean {
  const patterns = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(patterns.some((p) => p.startsWith('!'))).toBe(false); // not handled here
  const regexes = patterns.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\u0000/g, '.*')}(/.*)?$`));
  return (file) => regexes.some((regex) => regex.test(file));
}

// Private: compose.yaml.

interface ComposeService {
  build?: unknown;
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: (string | number)[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  stop_grace_period?: string;
  profiles?: string[];
}

function composeServices(): Record<string, ComposeService> {
  return (parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> }).services;
}

/** Built from this repository's Dockerfile. */
function isBytegate(service: ComposeService): boolean {
  return service.build === '.' || (typeof service.build === 'object' && service.build !== null);
}

function dependsOn(service: ComposeService): Record<string, string> {
  const needs = service.depends_on ?? {};
  return Array.isArray(needs) ? Object.fromEntries(needs.map((n) => [n, 'service_started'])) : Object.fromEntries(Object.entries(needs).map(([n, { condition }]) => [n, condition]));
}

function serverServices(): { service: string; role: string; port: string; env: Record<string, string> }[] {
  return Object.entries(composeServices()).flatMap(([service, s]) => {
    if (!isBytegate(s) || !s.command || s.entrypoint) return [];
    const role = roleOf(s.command);
    if (!role) return [];
    const env = s.environment ?? {};
    expect([service, role.portVar, env[role.portVar]]).toEqual([service, role.portVar, expect.stringMatching(/^\d+$/)]);
    return [{ service, role: role.role, port: env[role.portVar], env }];
  });
}

// Private: deploy/k8s.

interface Probe { httpGet: { path: string; port: string | number }; periodSeconds?: number; failureThreshold?: number }
interface Container {
  name: string;
  image: string;
  command: string[];
  ports: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Deployment {
  metadata: { name: string };
  spec: {
    replicas?: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        containers: Container[];
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        volumes?: { name: string; emptyDir?: object }[];
        terminationGracePeriodSeconds?: number;
      };
    };
  };
}

/** Manifests of several kinds, read field by field (the typed ones: Deployment, Container). */
type Manifest = any;

function k8sDocs(kind?: string): Manifest[] {
  const files = fs.readdirSync(path.join(ROOT, K8S_DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const docs = files.flatMap((f) => parseAllDocuments(read(`${K8S_DIR}/${f}`)).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Manifest;
  }));
  return kind ? docs.filter((d) => d.kind === kind) : docs;
}

function k8sContainers(): { deployment: string; container: Container }[] {
  return (k8sDocs('Deployment') as Deployment[]).flatMap((d) => d.spec.template.spec.containers.map((container) => ({ deployment: d.metadata.name, container })));
}

/** Each Deployment's server: its role, its container, the environment it gets (ConfigMaps, then env values), its port. */
function k8sServers(): { role: string; deployment: Deployment; container: Container; env: Record<string, string>; port: string }[] {
  const maps = new Map<string, Record<string, string>>(k8sDocs('ConfigMap').map((m) => [m.metadata.name, m.data ?? {}]));
  return (k8sDocs('Deployment') as Deployment[]).map((deployment) => {
    const [container] = deployment.spec.template.spec.containers;
    const role = roleOf(container.command);
    expect([deployment.metadata.name, role]).toEqual([deployment.metadata.name, expect.any(Object)]);
    const env: Record<string, string> = {};
    for (const { configMapRef } of container.envFrom ?? []) {
      expect([configMapRef?.name, maps.has(configMapRef?.name ?? '')]).toEqual([configMapRef?.name, true]);
      Object.assign(env, maps.get(configMapRef!.name));
    }
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const port = env[role!.portVar];
    expect([deployment.metadata.name, role!.portVar, port]).toEqual([deployment.metadata.name, role!.portVar, expect.stringMatching(/^\d+$/)]);
    return { role: role!.role, deployment, container, env, port };
  });
}

// Private: the healthcheck, run.

function serve(status: number): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    response.writeHead(request.url === '/healthz' ? status : 404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = await serve(200);
  const port = portOf(server);
  await closeServer(server);
  return port;
}

/** Runs the script with `ports` (PORT, USERS_PORT, …) as its whole environment; its exit code. */
function healthcheck(ports: Record<string, string>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'deploy/healthcheck.js')], { env: { PATH: process.env.PATH, ...ports }, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', resolve);
  });
}
