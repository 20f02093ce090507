/**
 * The Handlebars instance every target renders with: HTML escaping off (it would corrupt shell
 * code), strict mode on (a misspelt value is an error, not an empty string), and the quoting
 * helper registered as `q`. Templates never compute; they place model values through `q`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { PRECOMPILED } from './precompiled.js';
import { commentText, shellQuote } from './quote.js';

/** The folder holding `templates/`, found from this module whether it runs from src or dist. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'templates')) || !existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('internal: cannot find the templates folder of unshared');
    dir = parent;
  }
  return dir;
}

/** Where the templates are read from; only looked for when they were not precompiled. */
export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

function createEngine(): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper('q', (value: unknown) => {
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new Error(`internal: q expects a string or number, got ${typeof value}`);
    }
    return shellQuote(value);
  });
  hbs.registerHelper('comment', (value: unknown) => commentText(String(value)));
  return hbs;
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** The options every template and partial is compiled with (precompiled ones too). */
export const COMPILE_OPTIONS = { noEscape: true, strict: true } as const;

/** A target's template sources: `main.hbs` is the entry, every other `.hbs` file a partial. */
export function readTemplates(target: string): { main: string; partials: Record<string, string> } {
  const dir = join(templatesDir(), target);
  const partials: Record<string, string> = {};
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('.hbs') && file !== 'main.hbs') {
      partials[file.slice(0, -'.hbs'.length)] = readFileSync(join(dir, file), 'utf8');
    }
  }
  return { main: readFileSync(join(dir, 'main.hbs'), 'utf8'), partials };
}

/**
 * A target's template, made once per process: from the precompiled templates in the bundled
 * command line, else compiled from `templates/NAME/` (partials compiled with the same options
 * as the entry, as the precompiled ones are).
 */
export function templateFor(target: string): Handlebars.TemplateDelegate {
  const cached = compiled.get(target);
  if (cached) return cached;
  const hbs = createEngine();
  let template: Handlebars.TemplateDelegate;
  const precompiled = PRECOMPILED?.[target];
  if (precompiled) {
    for (const [name, spec] of Object.entries(precompiled.partials)) hbs.registerPartial(name, hbs.template(spec));
    template = hbs.template(precompiled.main);
  } else {
    const sources = readTemplates(target);
    for (const [name, source] of Object.entries(sources.partials)) hbs.registerPartial(name, hbs.compile(source, COMPILE_OPTIONS));
    template = hbs.compile(sources.main, COMPILE_OPTIONS);
  }
  compiled.set(target, template);
  return template;
}
