/**
 * Writing an imported spec as a file people keep: TypeScript (defineContainer, the default),
 * JSON or YAML, each with a header saying where it came from and what is left to do.
 */
import { yaml } from '../lazy.js';
import type { ContainerSpecInput } from '../spec/schema.js';
import { commentText } from '../render/quote.js';

export const IMPORT_FORMATS = ['ts', 'json', 'yaml'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Where editors find the JSON Schema: `unshared schema -o unshared.schema.json` writes it. */
export const SCHEMA_REFERENCE = './unshared.schema.json';

/** A JavaScript literal in the style of examples/*.ts: bare keys, single quotes, short arrays on one line. */
export function tsLiteral(value: unknown, indent = ''): string {
  if (typeof value === 'string') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029')}'`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value.map((v) => tsLiteral(v, inner));
    const line = `[${items.join(', ')}]`;
    return line.length <= 80 && !line.includes('\n') ? line : `[\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).map(([k, v]) => `${/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : tsLiteral(k)}: ${tsLiteral(v, inner)}`);
  if (entries.length === 0) return '{}';
  const line = `{ ${entries.join(', ')} }`;
  return indent !== '' && line.length <= 80 && !line.includes('\n') ? line : `{\n${entries.map((e) => `${inner}${e},`).join('\n')}\n${indent}}`;
}

export function formatSpec(spec: ContainerSpecInput, format: ImportFormat, header: string[]): string {
  const comment = (prefix: string) => header.map((line) => `${prefix}${commentText(line)}`.trimEnd()).join('\n');
  switch (format) {
    case 'ts':
      return [
        '/**',
        comment(' * ').replaceAll('*/', '*\\/'),
        ' */',
        "import { defineContainer } from 'unshared';",
        '',
        `export default defineContainer(${tsLiteral(spec)});`,
        '',
      ].join('\n');
    case 'json':
      // JSON has no comments: the header went to stderr with the notices.
      return `${JSON.stringify({ $schema: SCHEMA_REFERENCE, ...spec }, null, 2)}\n`;
    case 'yaml':
      return `# yaml-language-server: $schema=${SCHEMA_REFERENCE}\n${comment('# ')}\n${yaml().stringify(spec, { lineWidth: 0 })}`;
  }
}
