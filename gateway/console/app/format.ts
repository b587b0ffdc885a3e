/** Numbers people read: bytes in binary units, dollars at the configured price of a TiB, dates. */
import { TiB, formatBytes } from '../../../common/units';

export { formatBytes };

export function formatUsd(bytes: number, pricePerTibUsd: number): string {
  const usd = (bytes / TiB) * pricePerTibUsd;
  return usd === 0 ? '$0' : usd < 0.01 ? '< $0.01' : `$${usd.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 })}`;
}

export function exactBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** YYYY-MM-DD (UTC) of `date` plus `days`. */
export function isoDay(date: Date, days = 0): string {
  return new Date(date.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}
