/**
 * A small JSON Schema (draft 2020-12) checker for the tests, with no dependency: it knows the
 * keywords that specJsonSchema() emits and refuses any other, so that a new keyword in the
 * generated schema fails the tests instead of being silently ignored.
 */

export type JsonSchema = boolean | { [keyword: string]: unknown };

/** Keywords that only annotate: they never make a value invalid. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$defs', 'definitions']);

const SUPPORTED = new Set([
  'type', 'enum', 'const', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'multipleOf', 'minItems', 'maxItems', 'uniqueItems', 'items', 'prefixItems', 'contains', 'properties', 'required',
  'additionalProperties', 'propertyNames', 'minProperties', 'maxProperties', 'anyOf', 'oneOf', 'allOf', 'not', '$ref', 'format',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeOf(value) === type;
  }
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Returns the problems found (empty when the value is valid), each as `path: keyword ...`. */
export function checkJsonSchema(root: JsonSchema, value: unknown): string[] {
  const errors: string[] = [];

  const resolve = (ref: string): JsonSchema => {
    if (!ref.startsWith('#')) throw new Error(`unsupported $ref ${ref}`);
    let node: unknown = root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    }
    if (node === undefined) throw new Error(`$ref ${ref} points nowhere`);
    return node as JsonSchema;
  };

  const check = (schema: JsonSchema, v: unknown, path: string): boolean => {
    if (schema === true) return true;
    if (schema === false) {
      errors.push(`${path}: false schema`);
      return false;
    }
    let ok = true;
    const fail = (message: string) => {
      errors.push(`${path}: ${message}`);
      ok = false;
    };
    for (const keyword of Object.keys(schema)) {
      if (!ANNOTATIONS.has(keyword) && !SUPPORTED.has(keyword)) throw new Error(`the test's JSON Schema checker does not know the keyword '${keyword}' (at ${path})`);
    }
    const s = schema as Record<string, unknown>;
    if (s.$ref !== undefined && !check(resolve(s.$ref as string), v, path)) ok = false;
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => matchesType(v, t))) fail(`type: expected ${types.join('|')}, got ${typeOf(v)}`);
    }
    if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => equal(e, v))) fail(`enum: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
    if (s.const !== undefined && !equal(s.const, v)) fail(`const: expected ${JSON.stringify(s.const)}`);
    if (typeof v === 'string') {
      const length = [...v].length;
      if (s.pattern !== undefined && !new RegExp(s.pattern as string, 'u').test(v)) fail(`pattern: ${JSON.stringify(v)} does not match ${s.pattern as string}`);
      if (s.minLength !== undefined && length < (s.minLength as number)) fail('minLength');
      if (s.maxLength !== undefined && length > (s.maxLength as number)) fail('maxLength');
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < (s.minimum as number)) fail(`minimum: ${v} < ${s.minimum as number}`);
      if (s.maximum !== undefined && v > (s.maximum as number)) fail(`maximum: ${v} > ${s.maximum as number}`);
      if (s.exclusiveMinimum !== undefined && v <= (s.exclusiveMinimum as number)) fail(`exclusiveMinimum: ${v} <= ${s.exclusiveMinimum as number}`);
      if (s.exclusiveMaximum !== undefined && v >= (s.exclusiveMaximum as number)) fail(`exclusiveMaximum: ${v} >= ${s.exclusiveMaximum as number}`);
      if (s.multipleOf !== undefined && !Number.isInteger(v / (s.multipleOf as number))) fail('multipleOf');
    }
    if (Array.isArray(v)) {
      if (s.minItems !== undefined && v.length < (s.minItems as number)) fail(`minItems: ${v.length} < ${s.minItems as number}`);
      if (s.maxItems !== undefined && v.length > (s.maxItems as number)) fail('maxItems');
      if (s.uniqueItems === true && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) fail('uniqueItems');
      const prefix = (s.prefixItems as JsonSchema[] | undefined) ?? [];
      v.forEach((item, i) => {
        const itemSchema = i < prefix.length ? prefix[i] : (s.items as JsonSchema | undefined);
        if (itemSchema !== undefined && !check(itemSchema, item, `${path}[${i}]`)) ok = false;
      });
      if (s.contains !== undefined) {
        const saved = errors.length;
        const found = v.some((item, i) => check(s.contains as JsonSchema, item, `${path}[${i}]`));
        errors.length = saved;
        if (!found) fail('contains');
      }
    }
    if (typeOf(v) === 'object') {
      const object = v as Record<string, unknown>;
      const properties = (s.properties as Record<string, JsonSchema> | undefined) ?? {};
      for (const key of (s.required as string[] | undefined) ?? []) {
        if (!(key in object)) fail(`required: '${key}' is missing`);
      }
      for (const [key, item] of Object.entries(object)) {
        if (key in properties) {
          if (!check(properties[key]!, item, `${path}.${key}`)) ok = false;
        } else if (s.additionalProperties !== undefined) {
          if (s.additionalProperties === false) fail(`additionalProperties: '${key}' is not allowed`);
          else if (!check(s.additionalProperties as JsonSchema, item, `${path}.${key}`)) ok = false;
        }
        if (s.propertyNames !== undefined && !check(s.propertyNames as JsonSchema, key, `${path}[${JSON.stringify(key)}] (name)`)) ok = false;
      }
      const count = Object.keys(object).length;
      if (s.minProperties !== undefined && count < (s.minProperties as number)) fail('minProperties');
      if (s.maxProperties !== undefined && count > (s.maxProperties as number)) fail('maxProperties');
    }
    const branches = (keyword: string): boolean[] => {
      const saved = errors.length;
      const results = (s[keyword] as JsonSchema[]).map((branch) => check(branch, v, path));
      errors.length = saved;
      return results;
    };
    if (s.allOf !== undefined) {
      for (const branch of s.allOf as JsonSchema[]) if (!check(branch, v, path)) ok = false;
    }
    if (s.anyOf !== undefined && !branches('anyOf').some(Boolean)) fail('anyOf: no branch matches');
    if (s.oneOf !== undefined) {
      const matching = branches('oneOf').filter(Boolean).length;
      if (matching !== 1) fail(`oneOf: ${matching} branches match`);
    }
    if (s.not !== undefined) {
      const saved = errors.length;
      const matched = check(s.not as JsonSchema, v, path);
      errors.length = saved;
      if (matched) fail('not');
    }
    return ok;
  };

  check(root, value, '$');
  return errors;
}
