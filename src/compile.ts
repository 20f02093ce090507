/**
 * The pipeline in one call: spec -> validation -> model -> target.
 */
import { resolveModel, type ContainerModel } from './model/model.js';
import type { ContainerSpecInput } from './spec/schema.js';
import { SpecError, validateSpec } from './spec/validate.js';
import { renderScript } from './targets/script.js';

/** The forms a spec can be compiled into. */
export const TARGETS = {
  script: renderScript,
} satisfies Record<string, (model: ContainerModel) => string>;

export type Target = keyof typeof TARGETS;

/** Validates a spec and resolves its model; throws SpecError with every problem found. */
export function planContainer(spec: ContainerSpecInput | unknown, source = 'spec'): ContainerModel {
  const result = validateSpec(spec);
  if (!result.ok) throw new SpecError(result.problems, source);
  return resolveModel(result.spec);
}

/** Compiles a spec into the text of a target (the bash script by default). */
export function compile(spec: ContainerSpecInput | unknown, options: { target?: Target; source?: string } = {}): string {
  return TARGETS[options.target ?? 'script'](planContainer(spec, options.source));
}
