/**
 * `import()`, in one place. The bundled command line runs as a classic script, so that V8 can
 * keep a code cache of it (src/cli/code-cache.ts), and V8 gives a script's own `import()` no
 * module loader; scripts/bundle.mjs replaces this module there with the `import()` of the
 * command's entry (dist/cli.cjs), a real module beside the bundle that resolves the same names.
 */
export function importModule(specifier: string): Promise<unknown> {
  return import(specifier);
}
