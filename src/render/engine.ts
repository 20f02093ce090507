/**
 * The Handlebars instance every target renders with: HTML escaping off (it would corrupt shell
 * code), strict mode on (a misspelt value is an error, not an empty string), and the quoting
 * helper registered as `q`. Templates never compute; they place model values through `q`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
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

export const TEMPLATES_DIR = join(packageRoot(), 'templates');

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

/**
 * Compiles a target's templates once per process: `templates/NAME/main.hbs` is the entry, every
 * other `.hbs` file in that folder is a partial named after its file.
 */
export function templateFor(target: string): Handlebars.TemplateDelegate {
  const cached = compiled.get(target);
  if (cached) return cached;
  const hbs = createEngine();
  const dir = join(TEMPLATES_DIR, target);
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('.hbs') && file !== 'main.hbs') {
      hbs.registerPartial(file.slice(0, -'.hbs'.length), readFileSync(join(dir, file), 'utf8'));
    }
  }
  const template = hbs.compile(readFileSync(join(dir, 'main.hbs'), 'utf8'), { noEscape: true, strict: true });
  compiled.set(target, template);
  return template;
}
