/**
 * dist/: the compiled JavaScript (tsconfig.build.json) that every npm script starting a process runs
 * with plain node; tsx stays a development tool. Plain JavaScript itself, so that it runs before any
 * build, with nothing but node and, to build, the typescript package.
 *
 * `node scripts/freshDist.js` builds: `npm run build`, and npm install's `prepare`.
 * `node -r ./scripts/freshDist.js dist/cli/token.js` first rebuilds if dist/ is missing or older than
 * a source — after a `git pull` without `npm install` — with a one-line notice on stderr. Fresh, that
 * check is a walk of the source folders' mtimes: a few milliseconds.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** What is built, and from which folders: read here as plain JSON, so it holds no comments. */
const CONFIG = 'tsconfig.build.json';
/** Written last by a successful build, with the mtime of the build's start: a source saved during it is newer. */
const STAMP = path.join(DIST, '.built');
/** Where a build compiles to, and where the dist/ it replaces goes while it is swapped out: dist/ is never half built. */
const NEXT = path.join(ROOT, 'dist.next');
const OLD = path.join(ROOT, 'dist.old');
/** Created exclusively, holding its pid, by the one process building; the others wait for it to go. */
const LOCK = path.join(ROOT, 'dist.lock');

if (require.main === module) {
  underLock(build);
} else if (staleness()) {
  underLock(() => {
    const stale = staleness(); // again: another process may have built it meanwhile
    if (!stale) return;
    process.stderr.write(`bytegate: ${stale}; building it (npm run build, about 15 s)…\n`);
    build();
  });
}

// Private:

/** Why dist/ must be built, or undefined when it is fresh. */
function staleness() {
  const builtMs = mtimeMs(STAMP);
  if (builtMs === undefined) return 'dist/ is missing';
  const newer = newerSource(builtMs);
  return newer && `dist/ is older than ${newer}`;
}

/**
 * The first source newer than `builtMs`: the build's tsconfigs, or a file or folder under the folders it
 * compiles (a folder's mtime changes as a file is added, removed or renamed in it).
 */
function newerSource(builtMs) {
  if (mtimeMs(path.join(ROOT, CONFIG)) === undefined) return undefined; // no sources here (an image of dist/): what is built runs
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, CONFIG), 'utf8'));
  const excluded = new Set((config.exclude ?? []).map((folder) => path.join(ROOT, folder)));
  const newer = (file) => mtimeMs(file) > builtMs;
  const walk = (folder) => {
    if (excluded.has(folder)) return undefined;
    if (newer(folder)) return folder;
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      const found = entry.isDirectory() ? walk(file) : newer(file) && file;
      if (found) return found;
    }
    return undefined;
  };
  const found = [CONFIG, config.extends].filter(Boolean).map((file) => path.join(ROOT, file)).find(newer)
    ?? config.include.map((folder) => walk(path.join(ROOT, folder))).find(Boolean);
  return found && path.relative(ROOT, found);
}

/**
 * A clean build: tsc into dist.next/, stamped, then swapped for dist/ by two renames, so a process
 * starting or loading a module meanwhile finds the old build or the new one, whole. Exits 1, dist/
 * unchanged, if tsc fails.
 */
function build() {
  const startedMs = Date.now();
  fs.rmSync(NEXT, { recursive: true, force: true });
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  } catch {
    fail('building dist/ needs the typescript package: run npm install (with its dev dependencies).');
  }
  try {
    // tsc's messages go to stderr: a CLI's stdout (a token) stays its own.
    execFileSync(process.execPath, [tsc, '-p', CONFIG, '--outDir', NEXT], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  } catch {
    fs.rmSync(NEXT, { recursive: true, force: true });
    fail(`the build failed (tsc -p ${CONFIG}, its errors above); dist/ is unchanged, and is built again at the next run.`);
  }
  const stamp = path.join(NEXT, path.basename(STAMP));
  fs.writeFileSync(stamp, '');
  fs.utimesSync(stamp, startedMs / 1000, startedMs / 1000);
  fs.rmSync(OLD, { recursive: true, force: true });
  if (fs.existsSync(DIST)) fs.renameSync(DIST, OLD);
  fs.renameSync(NEXT, DIST);
  fs.rmSync(OLD, { recursive: true, force: true });
}

/**
 * Runs `work` while holding LOCK, so that processes started together on a stale dist/ (the tests, the
 * servers of a deployment) build it once: the others wait, then find it fresh. A lock whose process is
 * gone (a build interrupted with Ctrl-C) is taken over.
 */
function underLock(work) {
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (holderGone()) fs.rmSync(LOCK, { force: true });
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  try {
    work();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}

function holderGone() {
  let pid;
  try {
    pid = Number(fs.readFileSync(LOCK, 'utf8'));
  } catch {
    return false; // released meanwhile: try again
  }
  if (!pid) return false; // created, its pid not written yet
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
}

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}
