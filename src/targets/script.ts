/**
 * The primary target: one self-contained bash script per container.
 */
import type { ContainerModel } from '../model/model.js';
import { templateFor } from '../render/engine.js';

export function renderScript(model: ContainerModel): string {
  return templateFor('script')(model);
}
