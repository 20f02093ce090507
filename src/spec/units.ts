/**
 * Sizes as people write them in container specs: `128m`, `1g`, `512KiB`, `1.5g`, or a plain
 * number of bytes. Units are binary (k = 1024), as in `docker run --memory` and Kubernetes'
 * `Mi`/`Gi`; the unit letter is case-insensitive and may be followed by `b`, `ib` or `i`.
 */

/** The accepted spelling of a size string; the JSON Schema carries it as `pattern`. */
/** Case-insensitive by its classes, not by a flag: the JSON Schema's `pattern` has no flags. */
export const SIZE_PATTERN = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtpKMGTP]?)(?:[iI]?[bB]|[iI])?$/;

const UNIT_EXPONENT: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/** A size from a spec: bytes as a number, or a string such as `128m`. */
export type Size = number | string;

/**
 * Converts a size to whole bytes (fractions of a byte are dropped), or returns undefined when
 * the text is not a size. Results beyond 2^53 are refused rather than silently rounded.
 */
export function parseSize(size: Size): number | undefined {
  if (typeof size === 'number') {
    return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
  }
  const match = SIZE_PATTERN.exec(size.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  const bytes = Math.floor(Number(amount) * 1024 ** UNIT_EXPONENT[unit!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Bytes written the way a person reads them: `134217728` -> `128 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && value % 1024 === 0 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value} ${units[unit]}`;
}
