/**
 * The one way a value from a spec enters a shell script. Words made only of characters that
 * the shell never interprets stay bare (so the script stays readable); everything else is
 * single-quoted, where nothing is special but the quote itself, written as '\''. Text that
 * looks like an expansion or an escape (`$`, a backquote, a backslash) is written as $'...' instead, where only the
 * backslash is special (escaped as \\, the quote as \'): the same bytes, and shellcheck does
 * not mistake it for an expansion or escape that was meant to happen (SC2016, SC1003).
 */

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(value: string | number): string {
  const text = String(value);
  if (text.includes('\0')) {
    // Validation refuses NUL long before this; a NUL here would be a bug upstream.
    throw new Error('internal: a NUL byte cannot be passed to the shell');
  }
  if (SAFE_WORD.test(text)) return text;
  if (/[$`\\]/.test(text)) return `$'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Text for a `# comment` line: one line, no control characters. */
export function commentText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\x00-\x1f\x7f]+/g, ' ');
}
