/**
 * The pipeline in one call: spec -> validation -> model -> target.
 */
import { resolveModel, type ContainerModel } from './model/model.js';
import type { ContainerSpecInput } from './spec/schema.js';
import { SpecError, validateSpec } from './spec/validate.js';
import { renderKubernetes } from './targets/kubernetes.js';
import { renderOci } from './targets/oci.js';
import { renderRunbook } from './targets/runbook.js';
import { renderScript } from './targets/script.js';
import { renderSystemd } from './targets/systemd.js';
import type { TargetOptions } from './targets/target.js';

/** A target: the text of one form of the container, from its model. */
export type Renderer = (model: ContainerModel, options: TargetOptions) => string;

const renderers = {
  script: renderScript,
  oci: renderOci,
  systemd: renderSystemd,
  runbook: renderRunbook,
  kubernetes: renderKubernetes,
} satisfies Record<string, Renderer>;

export type Target = keyof typeof renderers;

/** The forms a spec can be compiled into: each renders the same model. */
export const TARGETS: Record<Target, Renderer> = renderers;

/** Validates a spec and resolves its model; throws SpecError with every problem found. */
export function planContainer(spec: ContainerSpecInput | unknown, source = 'spec'): ContainerModel {
  const result = validateSpec(spec);
  if (!result.ok) throw new SpecError(result.problems, source);
  return resolveModel(result.spec);
}

/** Compiles a spec into the text of a target (the bash script by default). */
export function compile(spec: ContainerSpecInput | unknown, options: { target?: Target; source?: string } & TargetOptions = {}): string {
  return TARGETS[options.target ?? 'script'](planContainer(spec, options.source), options);
}
