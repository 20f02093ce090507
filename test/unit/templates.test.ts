/**
 * Template lint: a value reaches a script only through the `q` helper (or `comment`, on comment
 * lines). Every `{{...}}` in templates/**\/*.hbs must be a block open/close/else, a partial,
 * a comment, or a call of q or comment on one plain value; never a bare `{{value}}`, never a
 * `{{{triple}}}`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Handlebars from 'handlebars';
import { REPO_ROOT } from './support.js';

const TEMPLATES = join(REPO_ROOT, 'templates');

function templateFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return templateFiles(path);
      return name.endsWith('.hbs') ? [path] : [];
    });
}

const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const VALUE_HELPERS = new Set(['q', 'comment']);
/** A plain value: `name`, `bind.source`, `this`, `@index`, `../name`. No literals, no sub-expressions. */
const PLAIN_VALUE = /^(?:\.\.\/)*(?:this|@?[A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Every problem of one template's text, as `line N: ...` (checked itself on bad input below). */
function lintTemplate(text: string, partials: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;

  // 1. The text, token by token (this also sees what the parser would merge or drop).
  if (/\{\{\{/.test(text)) problems.push(`line ${lineOf(text.indexOf('{{{'))}: a {{{triple}}} mustache`);
  const token = /\{\{(~?)(!--[\s\S]*?--|![\s\S]*?|[\s\S]*?)(~?)\}\}/g;
  for (const match of text.matchAll(token)) {
    const body = match[2]!.trim();
    const line = lineOf(match.index);
    if (body.startsWith('!')) continue; // {{!-- comment --}} or {{! comment }}
    if (/^#\*?inline\b|^#>|^&|^\^/.test(body)) {
      problems.push(`line ${line}: {{${body}}} is not allowed`);
      continue;
    }
    let m: RegExpMatchArray | null;
    if ((m = body.match(/^#\s*([A-Za-z]+)\s+(\S.*)$/s))) {
      if (!BLOCK_HELPERS.has(m[1]!)) problems.push(`line ${line}: unknown block helper {{#${m[1]}}}`);
      else if (!PLAIN_VALUE.test(m[2]!.trim())) problems.push(`line ${line}: {{#${m[1]}}} takes one plain value, not '${m[2]}'`);
    } else if ((m = body.match(/^\/\s*([A-Za-z]+)$/))) {
      if (!BLOCK_HELPERS.has(m[1]!)) problems.push(`line ${line}: unknown block close {{/${m[1]}}}`);
    } else if (body === 'else') {
      // fine
    } else if ((m = body.match(/^else\s+(if|unless)\s+(\S.*)$/s))) {
      // {{else if x}}: a chained block, held to the same rule as {{#if x}}
      if (!PLAIN_VALUE.test(m[2]!.trim())) problems.push(`line ${line}: {{else ${m[1]}}} takes one plain value, not '${m[2]}'`);
    } else if ((m = body.match(/^>\s*([A-Za-z0-9_-]+)$/))) {
      if (!partials.has(m[1]!)) problems.push(`line ${line}: partial {{> ${m[1]}}} has no template file`);
    } else if ((m = body.match(/^([A-Za-z]+)\s+(\S+)$/)) && VALUE_HELPERS.has(m[1]!)) {
      if (!PLAIN_VALUE.test(m[2]!)) problems.push(`line ${line}: {{${m[1]}}} takes one plain value, not '${m[2]}'`);
      if (m[1] === 'comment') {
        const lineStart = text.lastIndexOf('\n', match.index) + 1;
        if (!/^\s*#/.test(text.slice(lineStart, match.index))) problems.push(`line ${line}: {{comment ...}} outside a '# ' comment line`);
      }
    } else {
      problems.push(`line ${line}: {{${body}}} places a value without q`);
    }
  }

  // 2. The parsed template: every mustache is q or comment, unescaped triples are refused.
  const visit = (node: hbs.AST.Node | undefined | null): void => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        (node as hbs.AST.Program).body.forEach(visit);
        break;
      case 'MustacheStatement': {
        const mustache = node as hbs.AST.MustacheStatement;
        const helper = mustache.path.type === 'PathExpression' ? (mustache.path as hbs.AST.PathExpression).original : mustache.path.type;
        const line = mustache.loc?.start.line ?? 0;
        if (!mustache.escaped) problems.push(`line ${line}: unescaped mustache (AST)`);
        if (!VALUE_HELPERS.has(helper)) problems.push(`line ${line}: mustache '${helper}' is not q or comment (AST)`);
        else if (mustache.params.length !== 1 || mustache.params[0]!.type !== 'PathExpression' || mustache.hash) {
          problems.push(`line ${line}: ${helper} takes exactly one value (AST)`);
        }
        break;
      }
      case 'BlockStatement': {
        const block = node as hbs.AST.BlockStatement;
        const helper = (block.path as hbs.AST.PathExpression).original;
        if (!BLOCK_HELPERS.has(helper)) problems.push(`line ${block.loc?.start.line ?? 0}: block '${helper}' (AST)`);
        visit(block.program);
        visit(block.inverse);
        break;
      }
      case 'PartialStatement':
      case 'CommentStatement':
      case 'ContentStatement':
        break;
      default:
        problems.push(`line ${node.loc?.start.line ?? 0}: unexpected ${node.type} (AST)`);
    }
  };
  try {
    visit(Handlebars.parse(text));
  } catch (error) {
    problems.push(`does not parse: ${(error as Error).message}`);
  }
  return problems;
}

/** The values placed with q inside a double-quoted string on one line of a template. */
function qInsideDoubleQuotes(line: string): string[] {
  const values: string[] = [];
  let state: 'plain' | 'single' | 'double' = 'plain';
  for (let i = 0; i < line.length; i++) {
    const mustache = /^\{\{~?q\s+([^}~]+?)~?\}\}/.exec(line.slice(i));
    if (mustache) {
      if (state === 'double') values.push(mustache[1]!.trim());
      i += mustache[0].length - 1;
      continue;
    }
    const c = line[i];
    if (state === 'single') {
      if (c === "'") state = 'plain';
    } else if (c === '\\') {
      i += 1; // an escaped character, outside single quotes
    } else if (c === '"') {
      state = state === 'double' ? 'plain' : 'double';
    } else if (c === "'" && state === 'plain') {
      state = 'single';
    }
  }
  return values;
}

describe('templates', () => {
  const files = templateFiles(TEMPLATES);

  test('there are templates, with a main.hbs per target', () => {
    assert.ok(files.length > 1);
    assert.ok(existsSync(join(TEMPLATES, 'script', 'main.hbs')));
  });

  for (const file of files) {
    const label = relative(REPO_ROOT, file);
    test(`${label}: values only through q (or comment), no bare or triple mustaches`, () => {
      const partials = new Set(readdirSync(join(file, '..')).filter((f) => f.endsWith('.hbs')).map((f) => f.slice(0, -4)));
      assert.deepEqual(lintTemplate(readFileSync(file, 'utf8'), partials), []);
    });
  }

  test('q is not used inside a double-quoted string, except for values known to be bare words', () => {
    // Inside "...", the single quotes q may add are literal characters: q's output is only right
    // as a word of its own. The cgroup templates place controller names in "${array[...]}";
    // those are fixed words (model.test.ts checks q leaves them bare). Any other use is a bug.
    const allowed = new Set(['script/cgroup-detect.hbs: name', 'script/cgroup-limits.hbs: controller']);
    const found = files.flatMap((file) =>
      readFileSync(file, 'utf8').split('\n').flatMap((line) => qInsideDoubleQuotes(line).map((value) => `${relative(TEMPLATES, file)}: ${value}`)),
    );
    assert.deepEqual(found.filter((f) => !allowed.has(f)), [], 'q inside double quotes');
  });

  test('every partial of a target is used by its main.hbs', () => {
    for (const target of readdirSync(TEMPLATES).filter((d) => statSync(join(TEMPLATES, d)).isDirectory())) {
      const main = readFileSync(join(TEMPLATES, target, 'main.hbs'), 'utf8');
      for (const partial of readdirSync(join(TEMPLATES, target)).filter((f) => f.endsWith('.hbs') && f !== 'main.hbs')) {
        assert.match(main, new RegExp(`\\{\\{>\\s*${partial.slice(0, -4)}\\s*\\}\\}`), `${target}/${partial} is never included`);
      }
    }
  });
});

describe('the template lint itself catches what it should', () => {
  const partials = new Set(['header']);
  const bad: [string, string][] = [
    ['a bare value', 'NAME={{name}}\n'],
    ['a bare nested value', 'X={{bind.source}}\n'],
    ['a triple mustache', 'X={{{name}}}\n'],
    ['an unescaped ampersand mustache', 'X={{& name}}\n'],
    ['q of a literal', "X={{q 'literal'}}\n"],
    ['q of a sub-expression', 'X={{q (lookup a b)}}\n'],
    ['q with two values', 'X={{q a b}}\n'],
    ['comment outside a comment line', 'echo {{comment why}}\n'],
    ['an unknown helper', 'X={{upper name}}\n'],
    ['an unknown block helper', '{{#raw}}x{{/raw}}\n'],
    ['a missing partial', '{{> nowhere}}\n'],
    ['an inverse section', '{{^name}}x{{/name}}\n'],
  ];
  for (const [what, text] of bad) {
    test(`refuses ${what}`, () => {
      assert.notDeepEqual(lintTemplate(text, partials), [], text);
    });
  }

  test('finds q inside double quotes, and only there', () => {
    assert.deepEqual(qInsideDoubleQuotes('x "{{q a}}" {{q b}} "$y"{{q c}} "${m[{{q d}}]}"'), ['a', 'd']);
    assert.deepEqual(qInsideDoubleQuotes(`printf '"' {{q a}} "\\"" {{q b}} "it's" {{q c}}`), []);
  });

  test('accepts every allowed form', () => {
    const text = [
      '{{!-- a comment --}}',
      '{{! short comment }}',
      '{{> header}}',
      'A={{q name}}',
      '# {{comment why}}',
      '  # indented: {{comment ../name}}',
      '{{#each mounts}}{{#if bind}}{{q bind.source}}{{else}}{{q @index}}{{/if}}{{/each}}',
      '{{#unless namespaces.user}}x{{/unless}}',
      '{{~q this~}}',
      '',
    ].join('\n');
    assert.deepEqual(lintTemplate(text, partials), []);
  });
});
