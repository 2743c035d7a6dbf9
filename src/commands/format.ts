// Human output helpers: aligned tables and relative times. JSON output never goes through here.

/**
 * A value read from a record's clear metadata (an account name from the provider, or anything a
 * tampered file holds: clear metadata is only checked when the record is decrypted) with control
 * characters escaped, so it cannot move the cursor, rewrite the line or retitle the terminal.
 * C0, DEL, C1 and the bidirectional overrides become \xNN / \u{NNNN}.
 */
export function printable(value: string): string {
  return value.replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

export function table(headers: string[], rows: string[][]): string {
  rows = rows.map((row) => row.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** "in 6d", "in 3h", "in 12m", "2h ago", for expiry columns. */
export function relativeTime(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  const [size, unit] = units.find(([size]) => abs >= size) ?? [1000, 's'];
  const n = Math.floor(abs / size);
  return ms >= 0 ? `in ${n}${unit}` : `${n}${unit} ago`;
}
