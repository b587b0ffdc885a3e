/**
 * A small, fast, seeded PRNG and the random identifiers the synthetic Okta data needs.
 * sfc32 (Chris Doty-Humphrey's "small fast chaotic" generator, from PractRand) seeded by cyrb128 of a
 * seed text: the same text gives the same sequence on every platform, and unrelated texts give
 * unrelated streams, so callers derive one stream per purpose (`acme|1|day|2025-01-06`).
 * Not cryptographic. See https://pracrand.sourceforge.net/RNG_engines.txt
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seedText: string) {
    [this.a, this.b, this.c, this.d] = cyrb128(seedText);
    for (let i = 0; i < 12; i++) this.nextUint32(); // mix away the seed's structure
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    this.d = (this.d + 1) | 0;
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Standard normal (Box–Muller). For per-user parameters, not hot loops. */
  gaussian(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  /** An RFC 9562 version 4 UUID in lowercase hex (the form Okta's `uuid` has). */
  uuid(): string {
    const codes = UUID_CODES;
    writeHex(codes, 0, this.nextUint32(), 8);
    const b = this.nextUint32();
    writeHex(codes, 9, b >>> 16, 4);
    writeHex(codes, 14, (b & 0x0fff) | 0x4000, 4); // version 4
    const c = this.nextUint32();
    writeHex(codes, 19, ((c >>> 16) & 0x3fff) | 0x8000, 4); // variant 10xx
    writeHex(codes, 24, c & 0xffff, 4);
    writeHex(codes, 28, this.nextUint32(), 8);
    // One flat string: `+` concatenation would build rope strings that cost GC time and memory.
    return fromCodes36(codes);
  }

  /**
   * `prefix` followed by random base62 characters, `length` characters in all. Okta object ids are
   * 20 characters: a 3-character type prefix (`00u` users, `0oa` apps, `0ua` app users) and 17 more.
   */
  base62(prefix: string, length: number): string {
    const codes = scratch(length);
    for (let i = 0; i < prefix.length; i++) codes[i] = prefix.charCodeAt(i);
    let bits = 0;
    for (let i = prefix.length, left = 0; i < length; i++, left--) {
      if (left === 0) {
        bits = this.nextUint32();
        left = 5; // 62^5 < 2^32: five nearly uniform characters per draw
      }
      codes[i] = BASE62_CODES[bits % 62];
      bits = Math.floor(bits / 62);
    }
    return length === 20 ? fromCodes20(codes) : String.fromCharCode(...codes);
  }
}

// Private:

const BASE62_CODES = Array.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (ch) => ch.charCodeAt(0));
const HEX_CODES = Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));
/** Dashes stay in place; uuid() overwrites only the hex digits. */
const UUID_CODES: number[] = Array.from('00000000-0000-0000-0000-000000000000', (ch) => ch.charCodeAt(0));
const scratchByLength = new Map<number, number[]>();

/** A reusable code array of exactly `length` entries (spread into String.fromCharCode). */
function scratch(length: number): number[] {
  let codes = scratchByLength.get(length);
  if (!codes) scratchByLength.set(length, (codes = new Array<number>(length).fill(0)));
  return codes;
}

function writeHex(codes: number[], offset: number, value: number, digits: number): void {
  for (let i = offset + digits - 1; i >= offset; i--) {
    codes[i] = HEX_CODES[value & 15];
    value >>>= 4;
  }
}

/** cyrb128 (bryc): a fast 128-bit string hash, used only to seed sfc32. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** String.fromCharCode with explicit arguments: measurably faster than spreading the array. */
function fromCodes20(c: number[]): string {
  return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16], c[17], c[18], c[19]);
}

function fromCodes36(c: number[]): string {
  return String.fromCharCode(
    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16], c[17],
    c[18], c[19], c[20], c[21], c[22], c[23], c[24], c[25], c[26], c[27], c[28], c[29], c[30], c[31], c[32], c[33], c[34], c[35],
  );
}
