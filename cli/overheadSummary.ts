/** What a CLI's warehouse jobs billed bytegate itself, per reason (stderr; nothing when it ran no job, as on DuckDB). */
import { type OverheadMeter, describeOverhead } from '../warehouse/overhead';

export function printOverhead(overhead: OverheadMeter, stream: NodeJS.WriteStream = process.stderr): void {
  const lines = describeOverhead(overhead.totals());
  if (lines.length > 0) stream.write(`warehouse jobs run for bytegate itself: ${lines.join('; ')}\n`);
}
