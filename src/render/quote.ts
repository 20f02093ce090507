/**
 * The one way a value from a spec enters a shell script. Words made only of characters that
 * the shell never interprets stay bare (so the script stays readable); everything else is
 * single-quoted, where nothing is special but the quote itself, written as '\''.
 *
 * Text that looks like an expansion or an escape (`$`, a backquote, a backslash) or holds the
 * Unicode quotes ‘ ’ is written as $'...' instead, where only the backslash is special (escaped
 * as \\, the quote as \'): the same bytes, and shellcheck does not mistake it for an expansion
 * or escape that was meant to happen (SC2016, SC1003) or for a misplaced quote (SC1112).
 */

/**
 * No ',' (a bare comma in an array literal reads to shellcheck as a mistaken separator, SC2054)
 * and no leading '=' (a broken assignment to shellcheck, SC2191, SC1097): both are quoted.
 */
const SAFE_WORD = /^[A-Za-z0-9_@%+:./-][A-Za-z0-9_@%+=:./-]*$/;
const LOOKS_LIKE_SHELL = /[$`\\\u2018\u2019]/;

export function shellQuote(value: string | number): string {
  const text = String(value);
  if (text.includes('\0')) {
    // Validation refuses NUL long before this; a NUL here would be a bug upstream.
    throw new Error('internal: a NUL byte cannot be passed to the shell');
  }
  if (SAFE_WORD.test(text)) return text;
  if (LOOKS_LIKE_SHELL.test(text)) return `$'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Text for a `# comment` line: one line, no control characters. */
export function commentText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\x00-\x1f\x7f]+/g, ' ');
}
