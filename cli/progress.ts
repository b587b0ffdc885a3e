/**
 * Progress output for long CLI jobs, on stderr: one line rewritten in place on a terminal; on a pipe
 * or a log file (CI, `npm start > log`), a new line at most every few seconds instead of a wall of `\r`.
 */
const PIPE_INTERVAL_MS = 5000;

export interface Progress {
  /** Shows `text` as the current state (throttled when stderr is not a terminal). */
  update(text: string): void;
  /** Ends the progress display: replaces it with `text`, or just clears it. */
  done(text?: string): void;
}

export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let lastLineAt = 0;
  let dirty = false;
  return {
    update(text) {
      if (stream.isTTY) {
        stream.write(`\r${text}\x1b[K`);
        dirty = true;
      } else if (Date.now() - lastLineAt >= PIPE_INTERVAL_MS) {
        stream.write(`${text}\n`);
        lastLineAt = Date.now();
      }
    },
    done(text) {
      if (dirty) stream.write('\r\x1b[K');
      if (text !== undefined) stream.write(`${text}\n`);
      dirty = false;
    },
  };
}
