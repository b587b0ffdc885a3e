/**
 * Byte amounts as people write them: `5GiB`, `500 MiB`, `1TiB`, `1048576` (plain bytes). Binary
 * units only (KiB, MiB, GiB, TiB, PiB), case-insensitive; `KB`/`GB` are refused rather than guessed,
 * since BigQuery bills in binary units.
 */
export const KiB = 2 ** 10;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TiB = 2 ** 40;
export const PiB = 2 ** 50;

const UNITS: Readonly<Record<string, number>> = { b: 1, kib: KiB, mib: MiB, gib: GiB, tib: TiB, pib: PiB };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

export class ByteAmountError extends Error {}

/** Bytes of `text`; ByteAmountError for anything else (negative, unknown unit, not a safe integer). */
export function parseBytes(text: string): number {
  const match = PATTERN.exec(text);
  if (!match) throw new ByteAmountError(`"${text.slice(0, 40)}" is not a byte amount (e.g. 5GiB, 500MiB, 1048576).`);
  const factor = UNITS[(match[2] || 'b').toLowerCase()];
  if (factor === undefined) throw new ByteAmountError(`"${match[2]}" is not a unit: use B, KiB, MiB, GiB, TiB or PiB.`);
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new ByteAmountError(`"${text.slice(0, 40)}" is too large.`);
  return bytes;
}

/** For people reading a message: human units and, when they round, the exact count — "20 MiB (20,971,520 bytes)". */
export function bytesForPeople(bytes: number): string {
  const human = formatBytes(bytes);
  return human === `${bytes} B` ? human : `${human} (${bytes.toLocaleString('en-US')} bytes)`;
}

/** The largest binary unit that keeps the number ≥ 1, e.g. 5 GiB, 1.5 TiB, 900 B. */
export function formatBytes(bytes: number): string {
  const units = ['PiB', 'TiB', 'GiB', 'MiB', 'KiB'] as const;
  for (const unit of units) {
    const factor = UNITS[unit.toLowerCase()];
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}
