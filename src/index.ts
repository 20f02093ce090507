/**
 * unshared as a library: declare containers in TypeScript and compile them to scripts.
 *
 *     import { defineContainer, compile } from 'unshared';
 *     const web = defineContainer({ name: 'web', rootfs: { dir: '/srv/rootfs/web' } });
 *     writeFileSync('web.sh', compile(web), { mode: 0o755 });
 */
export { defineContainer, specJsonSchema, containerSpecSchema, NAMESPACES, DEFAULT_NAMESPACES } from './spec/schema.js';
export type { ContainerSpec, ContainerSpecInput, Namespace } from './spec/schema.js';
export { validateSpec, formatProblems, SpecError } from './spec/validate.js';
export type { SpecProblem, ValidationResult } from './spec/validate.js';
export { parseSize } from './spec/units.js';
export { loadSpecFile } from './spec/load.js';
export { resolveModel } from './model/model.js';
export type { ContainerModel } from './model/model.js';
export { compile, planContainer, TARGETS } from './compile.js';
export type { Target } from './compile.js';
export { TargetError, type TargetOptions } from './targets/target.js';
export { shellQuote } from './render/quote.js';
export { importDockerRun, ImportError } from './import/docker-run.js';
export type { Imported } from './import/docker-run.js';
export { importOciConfig } from './import/oci.js';
export { formatSpec, IMPORT_FORMATS } from './import/format.js';
export type { ImportFormat } from './import/format.js';
