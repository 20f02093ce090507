/**
 * shellQuote, the one way a spec value enters a script, checked against real bash: for each
 * string x, `bash -c 'printf "%s\0" '"$(shellQuote x)"` must print exactly the bytes of x.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { commentText, shellQuote } from '../../src/render/quote.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bash, prng, shellcheck } from './support.js';

const ADVERSARIAL: string[] = [
  '',
  ' ',
  '  leading and trailing  ',
  'plain',
  '/usr/local/bin:/usr/bin',
  "'",
  "''",
  "it's",
  "'\\''",
  '"',
  '""',
  'say "hi"',
  '`id`',
  '$(id)',
  '$(rm -rf /)',
  '$((1+1))',
  '$HOME',
  '${HOME}',
  '${IFS}',
  '$IFS$9',
  '$0 $1 $@ $* $# $? $$ $!',
  '$',
  "$'\\n'",
  '$"translated"',
  '\\',
  '\\\\',
  '\\$HOME',
  "\\'",
  'a\\',
  '*',
  '?',
  '[a-z]',
  '*.{sh,txt}',
  '{a,b}',
  '{1..3}',
  '~',
  '~root',
  'a=~/x:~/y',
  '!',
  '!!',
  '!-1',
  '^old^new',
  '#',
  '# not a comment',
  'a #b',
  ';',
  'a;b',
  '|',
  'a|b',
  '&',
  'a&b',
  '&&',
  '||',
  '<',
  '>',
  '<<',
  '>>',
  '<(id)',
  '>(id)',
  '2>&1',
  '(subshell)',
  '{ group; }',
  'a;b|c&d<e>f',
  '\n',
  'line1\nline2',
  'trailing newline\n',
  '\n\n\n',
  '\r\n',
  '\t',
  'tab\there',
  '\x01\x02\x1b\x7f',
  '\x1b[31mred\x1b[0m',
  'EOF',
  'EOF\n',
  "EOF'\nEOF",
  '<<EOF\n$(id)\nEOF',
  '-rf',
  '-',
  '--',
  '--help',
  '-e',
  '-n',
  '-E \\x41',
  '%s',
  '%s%s%n',
  '%',
  'a=b',
  'PATH=/x',
  '=',
  '@',
  '+',
  ',',
  ':',
  '.',
  '..',
  '/',
  'if',
  'then fi',
  'function',
  'time',
  'é',
  'ü ö ä ß',
  '中文',
  '日本語のテキスト',
  '😀',
  '👩‍👩‍👧‍👦',
  '\u200b',
  '\u202e reversed',
  '\u00a0nbsp',
  '\u2028\u2029',
  '\ufeffbom',
  '\uffff',
  'Ω≈ç√∫',
  "'\"`$\\!*?[]{}()<>|&;#~ \t\n",
  'x'.repeat(10_000),
  "'".repeat(5_000),
  '$(id)`id`'.repeat(2_000),
  'a\nb'.repeat(3_000),
];

/** Runs one bash that prints each quoted word NUL-terminated; returns the raw bytes. */
function printWords(quotedWords: string[], context: 'argument' | 'array' | 'assignment' | 'export' | 'concatenated' = 'argument'): Buffer {
  const words = quotedWords.join(' ');
  let script: string;
  switch (context) {
    case 'argument':
      script = `printf '%s\\0' ${words}`;
      break;
    case 'array':
      script = `values=(${words})\nprintf '%s\\0' "\${values[@]}"`;
      break;
    case 'assignment':
      script = quotedWords.map((w) => `value=${w}\nprintf '%s\\0' "$value"`).join('\n');
      break;
    case 'export':
      script = quotedWords.map((w) => `export VALUE=${w}\nprintenv VALUE | head -c -1; printf '\\0'`).join('\n');
      break;
    case 'concatenated':
      script = quotedWords.map((w) => `prefix=''\nprintf '%s\\0' "$prefix"${w}`).join('\n');
      break;
  }
  const result = bash(['-s'], { input: script });
  assert.equal(result.status, 0, `bash failed (${result.stderr}) on:\n${script.slice(0, 2000)}`);
  return result.stdout;
}

const expectedBytes = (values: string[]) => Buffer.concat(values.map((v) => Buffer.from(`${v}\0`, 'utf8')));

describe('shellQuote against bash', () => {
  for (const value of ADVERSARIAL) {
    const label = value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}... (${value.length} chars)` : JSON.stringify(value);
    test(`bash prints ${label} back byte for byte`, () => {
      const quoted = shellQuote(value);
      const script = `printf "%s\\0" ${quoted}`;
      // Passed with -c, as a script argument, when it fits in one (MAX_ARG_STRLEN is 128 KiB).
      const result = Buffer.byteLength(script) < 100_000 ? bash(['-c', script]) : bash(['-s'], { input: script });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.deepEqual(result.stdout, Buffer.from(`${value}\0`, 'utf8'), `quoted as ${quoted.slice(0, 200)}`);
    });
  }

  test('all adversarial strings in one array, as the templates write arrays', () => {
    assert.deepEqual(printWords(ADVERSARIAL.map(shellQuote), 'array'), expectedBytes(ADVERSARIAL));
  });

  test('all adversarial strings in assignments, exports and after a quoted prefix', () => {
    const values = ADVERSARIAL.filter((v) => v.length < 1000);
    const quoted = values.map(shellQuote);
    assert.deepEqual(printWords(quoted, 'assignment'), expectedBytes(values));
    assert.deepEqual(printWords(quoted, 'concatenated'), expectedBytes(values));
    assert.deepEqual(printWords(quoted, 'export'), expectedBytes(values));
  });

  test('the quoting stays one line per word', () => {
    // A quoted word never gets a newline that was not in the value.
    for (const value of ADVERSARIAL) {
      assert.equal(shellQuote(value).split('\n').length, value.split('\n').length, JSON.stringify(value));
    }
  });
});

describe('shellQuote output is shellcheck-clean', () => {
  // Generated scripts must pass shellcheck at its default severity with no exclusions, whatever
  // the spec's values: the quoting must not trip its warnings about quotes (SC2016 for $ or `
  // in single quotes, SC1003 for a backslash before a closing quote, SC1112 for Unicode quotes,
  // SC2191/SC1097 for a bare word starting with '=').
  const scratch = mkdtempSync(join(tmpdir(), 'unshared-quote-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  function lint(values: string[]): string {
    const lines = ['#!/usr/bin/env bash', 'rootfs=$1'];
    lines.push(`values=(${values.map(shellQuote).join(' ')})`, 'printf \'%s\\0\' "${values[@]}"');
    for (const value of values) {
      const q = shellQuote(value);
      // (declare: a plain `value=ls` is SC2209 whatever the quoting; the templates avoid it.)
      lines.push(`declare value=${q}`, 'printf \'%s\\0\' "$value"', `export VALUE=${q}`, `printf '%s\\0' ${q} "$rootfs"${q}`, `[[ -e "$rootfs"${q} ]] || :`);
    }
    const file = join(scratch, `lint-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = shellcheck(file);
    return result.stdout.toString('utf8') + result.stderr;
  }

  test('the lint script itself is clean with plain values (the check can pass)', () => {
    assert.equal(lint(['plain', 'a b', "it's", '']), '');
  });

  test('the lint catches a bad quoting (the check can fail)', () => {
    const file = join(scratch, 'bad.sh');
    writeFileSync(file, "#!/usr/bin/env bash\nvalue='$HOME'\nprintf '%s' \"$value\"\n");
    assert.match(shellcheck(file).stdout.toString('utf8'), /SC2016/);
  });

  for (const [what, values] of [
    ['$ and backticks', ['$(id)', '`id`', '${IFS}', '$HOME', '$1', '$_', '$((1+1))', "it's $x"]],
    ['backslashes', ['\\', 'a\\', "\\'", '\\\\', '\\n', 'x\\']],
    ['Unicode quotes', ['\u2018x\u2019', 'it\u2019s', '\u201chi\u201d', '\u2018\u201c$\\`\'"']],
    ['a leading =', ['=', '=x', '==']],
  ] as [string, string[]][]) {
    test(`values with ${what} pass shellcheck in every context`, () => {
      assert.equal(lint(values), '');
    });
  }

  test('all adversarial strings pass shellcheck in every context', () => {
    assert.equal(lint(ADVERSARIAL.filter((v) => v.length < 1000)), '');
  });
});

describe('shellQuote: what it writes', () => {
  test('words of safe characters stay bare, for a readable script', () => {
    for (const word of ['web', '/usr/bin/env', 'a-b_c.d', 'user@host:/path', 'key=value', '50%', '+1', '--fork', '0:100000:65536']) {
      assert.equal(shellQuote(word), word);
    }
  });

  test('everything else is single-quoted, a quote written as \'\\\'\'', () => {
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('~'), "'~'");
    assert.equal(shellQuote('a\nb'), "'a\nb'");
  });

  test('numbers are written as their decimal text', () => {
    assert.equal(shellQuote(10), '10');
    assert.equal(shellQuote(0), '0');
    assert.equal(shellQuote(-1), '-1');
    assert.equal(shellQuote(0.25), '0.25');
  });

  test('a NUL byte is refused: no shell word can hold it', () => {
    for (const value of ['\0', 'a\0b', 'end\0', `${'x'.repeat(100)}\0`]) {
      assert.throws(() => shellQuote(value), /NUL/);
    }
  });
});

/** Characters to build random strings from: the shell's specials weighted up, then anything. */
const SPECIALS = [..."'\"`$\\!*?[]{}()<>|&;#~=%@^+,:-./ \t\n\r", '\x01', '\x1b', '\x7f', 'é', '中', '😀', '\u200b', '\u2028', 'EOF', '$(', '${', "'\\''"];

function randomString(next: () => number): string {
  const length = Math.floor(next() * 24);
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = next();
    if (r < 0.6) {
      out += SPECIALS[Math.floor(next() * SPECIALS.length)];
    } else if (r < 0.85) {
      out += String.fromCharCode(0x20 + Math.floor(next() * 95)); // printable ASCII
    } else if (r < 0.95) {
      out += String.fromCharCode(1 + Math.floor(next() * 0x7f)); // any ASCII but NUL
    } else {
      // any code point but NUL and the surrogates (JSON-specs cannot carry those: validated)
      let cp: number;
      do cp = 1 + Math.floor(next() * 0x10fffe);
      while (cp >= 0xd800 && cp <= 0xdfff);
      out += String.fromCodePoint(cp);
    }
  }
  return out;
}

describe('shellQuote: random strings (seeded)', () => {
  const SEED = 0x5eed;
  const BATCHES = 20;
  const PER_BATCH = 50;
  const next = prng(SEED);
  const batches = Array.from({ length: BATCHES }, () => Array.from({ length: PER_BATCH }, () => randomString(next)));

  test(`${BATCHES * PER_BATCH} random strings survive bash as arguments and array elements (seed ${SEED})`, () => {
    for (const values of batches) {
      const quoted = values.map(shellQuote);
      for (const context of ['argument', 'array'] as const) {
        const actual = printWords(quoted, context);
        if (!actual.equals(expectedBytes(values))) {
          // Find the culprit for the report.
          for (const value of values) {
            assert.deepEqual(printWords([shellQuote(value)], context), expectedBytes([value]), `value ${JSON.stringify(value)} in ${context} context, quoted as ${shellQuote(value)}`);
          }
          assert.fail(`batch mismatch in ${context} context`);
        }
      }
    }
  });

  test('the generator is deterministic and really adversarial', () => {
    const a = prng(SEED);
    const b = prng(SEED);
    assert.deepEqual(Array.from({ length: 5 }, () => randomString(a)), Array.from({ length: 5 }, () => randomString(b)));
    const all = batches.flat();
    assert.ok(all.some((s) => s.includes("'")), 'some strings hold a single quote');
    assert.ok(all.some((s) => s.includes('\n')), 'some strings hold a newline');
    assert.ok(all.some((s) => s.includes('$(')), 'some strings hold a command substitution');
    assert.ok(all.some((s) => s === ''), 'the empty string is among them');
    assert.ok(all.some((s) => /[^\x00-\x7f]/.test(s)), 'some strings are not ASCII');
  });
});

describe('commentText', () => {
  test('a comment stays on one line without control characters', () => {
    assert.equal(commentText('plain text'), 'plain text');
    assert.equal(commentText('a\nb'), 'a b');
    assert.equal(commentText('a\r\n\tb'), 'a b');
    assert.equal(commentText('a\x1b[31mb\x7f'), 'a [31mb ');
    assert.equal(commentText("$(id) `id` 'q'"), "$(id) `id` 'q'");
  });

  test('bash ignores whatever commentText writes after #', () => {
    const values = ['a\nid', 'x\r\necho pwned', '\x1b]0;title\x07', "$(touch /tmp/x) ` '", '\u2028echo no'];
    const script = `${values.map((v) => `# ${commentText(v)}`).join('\n')}\nprintf done`;
    const result = bash(['-c', script]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'done');
  });
});
