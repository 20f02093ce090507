/**
 * The bundled command line and its V8 code caches.
 *
 * dist/bundle/ (made by scripts/bundle.mjs) holds unshared.js, the library and the command line
 * in one classic script whose value is a function of (module, require, host), and yaml.js, the
 * YAML library likewise, which unshared.js asks the host for when a run first needs it. Scripts,
 * not ES modules, because Node 20 keeps no compiled code for modules (Node 22's
 * module.enableCompileCache is not there) but V8 takes a code cache for a vm.Script: the
 * bytecode of the functions that ran when it was made, so that a start neither parses a bundle
 * nor compiles what a build runs. NAME.cache beside NAME.js holds it, written by `make build`
 * after a warm-up run of the command:
 *
 *     unshared-code-cache 1 BUNDLE-ID CRC32\n  then V8's data
 *
 * V8 refuses data made by another V8 or with other V8 flags (cachedDataRejected), but it knows
 * the source only by its length and does not check the data itself: data made for another
 * bundle, or damaged, could crash it or run the wrong code. So the header names the bundle (the
 * SHA-256 of its text, also on the bundle's first line, so that a start compares two strings
 * instead of hashing the bundle) and the CRC-32 of the data (zlib's, as Node's own compile cache
 * does), both checked before V8 sees the data. A cache that is missing, made for another bundle,
 * damaged or refused is ignored: the bundle is compiled as any script, the same code runs, and
 * the command writes a fresh cache after its run where it is allowed to (as Python writes
 * __pycache__), for instance in a package installed for another version of Node.
 */
import { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import * as zlib from 'node:zlib';

export const BUNDLE_DIR = 'bundle';
/** The bundle of the library and the command line; it loads the others it needs. */
export const MAIN_BUNDLE = 'unshared';

const BUNDLE_ID_PREFIX = '// unshared bundle ';
const CACHE_MAGIC = 'unshared-code-cache';
const CACHE_FORMAT = '1';

/**
 * What a bundle is given: the import.meta.url of its sources, an import() that works, and the
 * other bundles of its folder, loaded once each.
 */
export interface BundleHost {
  url: string;
  importModule(specifier: string): Promise<unknown>;
  requireBundle(name: string): unknown;
}

type BundleFactory = (module: { exports: unknown }, require: NodeJS.Require, host: BundleHost) => void;

/**
 * What became of a code cache: used; missing (or unreadable); stale (made for another bundle);
 * corrupt (its data is not what its header says); rejected (by V8: another version of Node, or
 * other V8 flags); unsupported (a Node 20 before 20.15, without zlib.crc32 to check it with).
 */
export type CacheState = 'used' | 'missing' | 'stale' | 'corrupt' | 'rejected' | 'unsupported';

export interface LoadedBundle {
  name: string;
  library: unknown;
  cache: CacheState;
  /** The bundle's id, from its first line. */
  id: string;
  script: Script;
}

/** The first line of a bundle, which names it by the SHA-256 (hex) of the rest of its text. */
export function bundleIdLine(id: string): string {
  return `${BUNDLE_ID_PREFIX}${id}\n`;
}

function bundleIdOf(source: string, file: string): string {
  const line = source.slice(0, source.indexOf('\n'));
  const id = line.startsWith(BUNDLE_ID_PREFIX) ? line.slice(BUNDLE_ID_PREFIX.length) : '';
  if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`internal: ${file} does not start with '${BUNDLE_ID_PREFIX}SHA-256'`);
  return id;
}

function crc32Hex(data: Uint8Array): string {
  return zlib.crc32(data).toString(16).padStart(8, '0');
}

/** The cache's V8 data if it belongs to this bundle and is intact, else why not. */
function readCache(file: string, id: string): { data?: Buffer; state: CacheState } {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return { state: 'missing' };
  }
  const newline = raw.indexOf(10);
  const [magic, format, cacheId, crc] = raw.toString('latin1', 0, Math.max(newline, 0)).split(' ');
  if (newline < 0 || magic !== CACHE_MAGIC || format !== CACHE_FORMAT || cacheId !== id) return { state: 'stale' };
  if (typeof zlib.crc32 !== 'function') return { state: 'unsupported' };
  const data = raw.subarray(newline + 1);
  if (crc !== crc32Hex(data)) return { state: 'corrupt' };
  return { data, state: 'used' };
}

/** The bundles of one folder (dist/bundle/), as one run loads them. */
export class Bundles {
  readonly loaded = new Map<string, LoadedBundle>();
  readonly dir: string;

  constructor(
    dir: string,
    private readonly importModule: BundleHost['importModule'],
  ) {
    this.dir = resolve(dir);
  }

  /** Compiles and runs NAME.js (once), with its code cache when that is sound. */
  load(name: string): LoadedBundle {
    const known = this.loaded.get(name);
    if (known) return known;
    const file = join(this.dir, `${name}.js`);
    const source = readFileSync(file, 'utf8');
    const id = bundleIdOf(source, file);
    const { data, state } = readCache(join(this.dir, `${name}.cache`), id);
    const script = new Script(source, { filename: file, cachedData: data });
    const cache: CacheState = data === undefined ? state : script.cachedDataRejected === true ? 'rejected' : 'used';
    const module = { exports: {} as unknown };
    const host: BundleHost = { url: pathToFileURL(file).href, importModule: this.importModule, requireBundle: (other) => this.load(other).library };
    (script.runInThisContext() as BundleFactory)(module, createRequire(file), host);
    const bundle = { name, library: module.exports, cache, id, script };
    this.loaded.set(name, bundle);
    return bundle;
  }

  /**
   * Writes the code cache of a loaded bundle: the bytecode of what it has run so far. Replaced
   * atomically, so that a start never reads half a cache. Throws if it cannot be written.
   */
  save(bundle: LoadedBundle): void {
    const data = bundle.script.createCachedData();
    const header = Buffer.from(`${CACHE_MAGIC} ${CACHE_FORMAT} ${bundle.id} ${crc32Hex(data)}\n`, 'latin1');
    const file = join(this.dir, `${bundle.name}.cache`);
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, Buffer.concat([header, data]), { mode: 0o644 });
      renameSync(temporary, file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }

  /**
   * After a run: writes a cache for each bundle loaded without a usable one, if the folder may be
   * written to; a read-only install just keeps compiling them. Never fails the command.
   */
  refresh(): void {
    if (typeof zlib.crc32 !== 'function') return;
    for (const bundle of this.loaded.values()) {
      if (bundle.cache === 'used') continue;
      try {
        accessSync(this.dir, constants.W_OK);
        this.save(bundle);
      } catch {
        return; // not ours to write (a package installed by root, a read-only file system)
      }
    }
  }
}
