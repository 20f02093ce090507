/**
 * Validation of a parsed spec: every problem at once, each with the path of its field
 * (`limits.memory`, `mounts[2].target`) and what to do about it.
 */
import type { z } from 'zod/mini';
import { containerSpecSchema, type ContainerSpec } from './schema.js';

/** One problem in a spec: where it is, and what is wrong with it. */
export interface SpecProblem {
  path: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; spec: ContainerSpec }
  | { ok: false; problems: SpecProblem[] };

/** Thrown by the library API when a spec is invalid; `problems` holds every issue found. */
export class SpecError extends Error {
  constructor(readonly problems: SpecProblem[], readonly source = 'spec') {
    super(formatProblems(problems, source));
    this.name = 'SpecError';
  }
}

/** `['mounts', 2, 'target']` -> `mounts[2].target`; odd keys are quoted: `env["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(key))) out += out === '' ? String(key) : `.${String(key)}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(spec)' : out;
}

function describeIssue(issue: z.core.$ZodIssue): SpecProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      message: 'unknown field: check its spelling against `unshared schema`',
    }));
  }
  if (issue.code === 'invalid_key' || issue.code === 'invalid_element') {
    return issue.issues.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue));
  }
  if (issue.code === 'invalid_union') {
    // A union of object shapes ({ dir } | { url, sha256 } | ...): when the input's keys fit
    // exactly one shape, that shape's own problems name the fields (rootfs.sha256), rather than
    // one message for the whole union.
    const fitting = issue.errors.filter((branch) => !branch.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0));
    if (issue.errors.length > 1 && fitting.length === 1) {
      return fitting[0]!.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue));
    }
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ path: formatPath(issue.path), message: 'is required' }];
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

/** Checks a spec object; never throws for bad input, returns every problem instead. */
export function validateSpec(input: unknown): ValidationResult {
  // reportInput: without it no issue carries `input`, and every wrong type would read 'is required'.
  const result = containerSpecSchema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, spec: result.data };
  return { ok: false, problems: result.error.issues.flatMap(describeIssue) };
}

/** Problems as lines for a terminal: `source: path: message`. */
export function formatProblems(problems: readonly SpecProblem[], source = 'spec'): string {
  return problems.map((p) => `${source}: ${p.path}: ${p.message}`).join('\n');
}
