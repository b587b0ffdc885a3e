/**
 * The console's files, bundled by esbuild from `app/` and the npm packages it imports (React,
 * GraphiQL, uPlot) into one script and one stylesheet, in memory: nothing is fetched from a CDN and
 * nothing is written to disk, so the two README commands still do all the set-up. A gateway bundles
 * once, on the console's first request (about a second), and keeps the result. The sources are read
 * at the repository's root also when the gateway runs compiled from dist/: a deployment carries
 * `gateway/console/app/` and `common/units.ts`, which it imports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { REPOSITORY_ROOT } from '../../common/repositoryRoot';

export interface ConsoleFile {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The console's files by URL path under /console/ (`''` is the page itself). */
export type ConsoleBundle = ReadonlyMap<string, ConsoleFile>;

export async function bundleConsole(): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: { console: path.join(APP_DIR, 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    jsx: 'automatic',
    outdir: '/',
    write: false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const files = new Map<string, ConsoleFile>([['', { contentType: 'text/html; charset=utf-8', body: fs.readFileSync(path.join(APP_DIR, 'index.html')) }]]);
  for (const output of result.outputFiles) {
    const name = path.basename(output.path);
    files.set(`assets/${name}`, { contentType: CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream', body: Buffer.from(output.contents) });
  }
  return files;
}

// Private:

const APP_DIR = path.join(REPOSITORY_ROOT, 'gateway/console/app');
const CONTENT_TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
