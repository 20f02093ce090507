/**
 * Templates compiled ahead of time, for the bundled command line (dist/bundle/unshared.js). The
 * TypeScript build leaves this empty: the library then compiles `templates/` when first used,
 * so an edited template takes effect without a build. scripts/bundle.mjs replaces this module
 * in the bundle with every target's templates precompiled by Handlebars (`precompile`), which
 * takes Handlebars' compiler, and its time, off the command line's start. (TemplateSpecification is
 * a global type of Handlebars' typings.)
 */

export interface PrecompiledTarget {
  main: TemplateSpecification;
  partials: Record<string, TemplateSpecification>;
}

export const PRECOMPILED: Record<string, PrecompiledTarget> | undefined = undefined;
