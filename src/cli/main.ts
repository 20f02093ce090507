/**
 * The `unshared` command line. Exit status: 0 ok, 1 unexpected failure, 2 bad input or usage
 * (an invalid spec, an unreadable file, an unknown option). Nothing is written on bad input.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { TARGETS, planContainer, type Target } from '../compile.js';
import { loadSpecFile, SpecLoadError, SPEC_EXTENSIONS } from '../spec/load.js';
import { specJsonSchema } from '../spec/schema.js';
import { SpecError } from '../spec/validate.js';
import { TargetError } from '../targets/target.js';
import { ImportError, importDockerRun, type Imported } from '../import/docker-run.js';
import { formatSpec, IMPORT_FORMATS, type ImportFormat } from '../import/format.js';
import { bundleDirOf, importOciConfig } from '../import/oci.js';
import { shellQuote } from '../render/quote.js';
import { validateSpec } from '../spec/validate.js';
import { OutputError, writeOutput } from './output.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

/** Errors the user can fix: reported as they are, exit status 2. */
class InputError extends Error {}

/** Set by scripts/bundle.mjs in the bundled command line, which has no package.json beside it. */
declare const __UNSHARED_VERSION__: string | undefined;

function version(): string {
  if (typeof __UNSHARED_VERSION__ === 'string') return __UNSHARED_VERSION__;
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function loadAndPlan(file: string) {
  return planContainer(await loadSpecFile(file), file);
}

/** Validates an imported spec, prints its notices, and writes it in the asked format. */
async function writeImported(imported: Imported, origin: string, options: { format: ImportFormat; output?: string }): Promise<void> {
  const checked = validateSpec(imported.spec);
  if (!checked.ok) throw new SpecError(checked.problems, 'the imported spec');
  for (const notice of imported.notices) process.stderr.write(`unshared: note: ${notice}\n`);
  const header = [`Imported by unshared from ${origin}`, ...imported.notices.map((n) => `Note: ${n}`)];
  await writeOutput(formatSpec(imported.spec, options.format, header), options.output, { executable: false });
}

export function buildProgram(): Command {
  const program = new Command('unshared')
    .description('Compile a container spec (TypeScript, JSON or YAML) into a bash script that builds and runs the container with namespaces, cgroups and pivot_root. No daemon, no Docker.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`unshared: ${text.replace(/^error: /, '')}`) })
    .exitOverride();

  program
    .command('build')
    .description('compile a spec into a script (printed on stdout unless -o is given)')
    .argument('<spec>', `spec file (${SPEC_EXTENSIONS.join(' ')})`)
    .option('-o, --output <file>', 'write to FILE (made executable) instead of stdout')
    .addOption(new Option('-t, --target <name>', 'what to produce').choices(Object.keys(TARGETS)).default('script').env('UNSHARED_TARGET'))
    .option('--script-path <path>', 'systemd target: where the script is installed (default /usr/local/bin/NAME.sh)')
    .addHelpText('after', '\nExamples:\n  unshared build web.ts -o web.sh\n  unshared build web.yaml > web.sh\n  unshared build web.ts --target oci -o bundle/config.json\n  unshared build web.ts --target systemd --script-path /opt/web.sh -o web.service')
    .action(async (spec: string, options: { output?: string; target: Target; scriptPath?: string }) => {
      if (options.scriptPath !== undefined && options.target !== 'systemd') {
        throw new InputError(`unshared: '--script-path' is only for '--target systemd', not '${options.target}'`);
      }
      const text = TARGETS[options.target](await loadAndPlan(spec), { scriptPath: options.scriptPath });
      await writeOutput(text, options.output, { executable: options.target === 'script' });
    });

  const importer = program
    .command('import')
    .description('turn another description of a container (a docker run command line, an OCI config.json) into a spec');

  importer
    .command('docker-run')
    .description('turn the words of a `docker run` command line (after --) into a spec; flags with no equivalent are refused, all listed')
    .argument('<args...>', 'what follows `docker run`: options, the image, its command')
    .addOption(new Option('-f, --format <format>', 'the spec\'s language').choices(IMPORT_FORMATS).default('ts'))
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addHelpText('after', '\nExample:\n  unshared import docker-run -o web.ts -- --name web -m 256m -p 8080:80 nginx:1.27')
    .action(async (args: string[], options: { format: ImportFormat; output?: string }) => {
      const imported = importDockerRun(args);
      await writeImported(imported, `docker run ${args.map((a) => shellQuote(a)).join(' ')}`, options);
    });

  importer
    .command('oci')
    .description("turn an OCI runtime bundle's config.json into a spec; what the spec cannot hold is refused, all listed")
    .argument('<config>', 'the config.json of a bundle (a relative root.path is taken from its folder)')
    .option('--name <name>', 'the container\'s name (default: the last part of linux.cgroupsPath)')
    .addOption(new Option('-f, --format <format>', 'the spec\'s language').choices(IMPORT_FORMATS).default('ts'))
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(async (config: string, options: { name?: string; format: ImportFormat; output?: string }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(config, 'utf8'));
      } catch (error) {
        throw new InputError(`unshared: ${config}: cannot read an OCI config: ${(error as Error).message}`);
      }
      const imported = importOciConfig(parsed, { bundleDir: bundleDirOf(config), name: options.name });
      await writeImported(imported, `the OCI config ${config}`, options);
    });

  program
    .command('validate')
    .description('check specs and report every problem with its field path (exit status 2 if any)')
    .argument('<spec...>', 'spec files')
    .action(async (specs: string[]) => {
      const failures: string[] = [];
      for (const spec of specs) {
        try {
          await loadAndPlan(spec);
          process.stdout.write(`${spec}: ok\n`);
        } catch (error) {
          if (!(error instanceof SpecError || error instanceof SpecLoadError)) throw error;
          failures.push(error.message);
        }
      }
      if (failures.length > 0) throw new InputError(failures.join('\n'));
    });

  program
    .command('schema')
    .description('print the JSON Schema of the spec, for editors and for JSON/YAML validation')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(async (options: { output?: string }) => {
      await writeOutput(`${JSON.stringify(specJsonSchema(), null, 2)}\n`, options.output, { executable: false });
    });

  return program;
}

/** Runs the CLI and returns its exit status (no process.exit, so tests can call it). */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    if (error instanceof SpecError || error instanceof SpecLoadError || error instanceof InputError || error instanceof TargetError || error instanceof ImportError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (error instanceof OutputError) {
      process.stderr.write(`unshared: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    process.stderr.write(`unshared: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}

