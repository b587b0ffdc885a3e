/**
 * Reads an Okta System Log export: NDJSON (one LogEvent per line) or a JSON array as the Okta API
 * returns it (`GET /api/v1/logs`). Yields one JSON text per event, so ingest parses each line once,
 * inside DuckDB. For an array, "line" numbers in reports are 1-based element positions.
 */
import fs from 'node:fs';

export async function* readLogFile(file: string): AsyncGenerator<string> {
  const handle = await fs.promises.open(file, 'r');
  let first: string;
  try {
    const probe = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    first = probe.subarray(0, bytesRead).toString('utf8').trimStart().charAt(0);
  } finally {
    await handle.close();
  }
  if (first === '[') {
    yield* readJsonArray(file);
  } else {
    yield* readLines(fs.createReadStream(file, { highWaterMark: 1 << 20 }));
  }
}

/** Splits a byte stream on `\n` (and drops a trailing `\r`), keeping empty lines so numbering stays true. */
export async function* readLines(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest: Buffer | undefined;
  for await (const chunk of stream) {
    const buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let end = buffer.indexOf(10, start); end !== -1; end = buffer.indexOf(10, start)) {
      yield buffer.toString('utf8', start, end > start && buffer[end - 1] === 13 ? end - 1 : end);
      start = end + 1;
    }
    rest = start < buffer.length ? buffer.subarray(start) : undefined;
  }
  if (rest && rest.length > 0) yield rest.toString('utf8');
}

// Private:

async function* readJsonArray(file: string): AsyncGenerator<string> {
  let events: unknown;
  try {
    events = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} starts like a JSON array but is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(events)) throw new Error(`${file} is not a JSON array of LogEvents.`);
  for (const event of events) yield JSON.stringify(event);
}
