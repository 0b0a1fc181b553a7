// Finding and reading config.yaml: the file-system edge of the config layer (parsing stays in parse.ts).

import { open } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ConfigIssue } from '../errors.js';
import { configuredRcloneBinary, parseConfig, readConfigSource, validateConfigSource } from './parse.js';
import type { ParseOptions } from './parse.js';
import type { Config, RcloneCapabilities } from './types.js';
import { MAX_CONFIG_BYTES, tooBigIssue } from './yaml-source.js';

export interface ConfigPathEnv {
  XDG_CONFIG_HOME?: string | undefined;
  HOME: string;
}

export interface LoadOptions {
  /** Home directory for `~` expansion. */
  home: string;
  caps?: RcloneCapabilities;
}

/** `$XDG_CONFIG_HOME/rclone-bisync-manager/config.yaml`, with the XDG fallback `~/.config` when unset or relative. */
export function defaultConfigPath(env: ConfigPathEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME, '.config');
  return join(base, 'rclone-bisync-manager', 'config.yaml');
}

function fileIssue(file: string, message: string): ConfigIssue {
  return { file, line: 1, col: 1, path: '', message };
}

/** The file's bytes; a file over the size limit is refused without reading it. */
async function readBounded(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ConfigError([fileIssue(path, 'is not a regular file (expected a YAML file)')]);
    if (info.size > MAX_CONFIG_BYTES) throw new ConfigError([tooBigIssue(path, info.size)]);
    // Read one byte more than allowed: a file that grew since stat() is still caught by the parser.
    const limit = MAX_CONFIG_BYTES + 1;
    const buffer = new Uint8Array(limit);
    let filled = 0;
    while (filled < limit) {
      const { bytesRead } = await handle.read(buffer, filled, limit - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

async function readConfigFile(file: string): Promise<Uint8Array> {
  try {
    return await readBounded(file);
  } catch (e: unknown) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(
        [fileIssue(file, 'the config file does not exist (expected a YAML file describing your sync jobs)')],
        `Create it from the annotated example: mkdir -p "${dirname(file)}" && cp examples/config.yaml "${file}", then edit it; or run "npm run demo" to try a ready-made demo job.`,
      );
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConfigError([fileIssue(file, `cannot read the config file: ${reason} (expected a readable file)`)], 'Check the file and its permissions.');
  }
}

function parseOptions(file: string, home: string, caps: RcloneCapabilities | undefined): ParseOptions {
  return { file, home, ...(caps === undefined ? {} : { caps }) };
}

/**
 * Read and validate the config file. Throws ConfigError for a missing or unreadable file (with a hint on
 * how to create one) and for every problem inside it.
 */
export async function loadConfig(path: string, options: LoadOptions): Promise<Config> {
  const file = resolve(path);
  return parseConfig(await readConfigFile(file), parseOptions(file, options.home, options.caps));
}

/** Detects what an rclone binary offers (platform/rclone-probe.ts probeRclone in production). */
export type RcloneProbe = (binary: string) => Promise<RcloneCapabilities>;

/**
 * Read config text, probe the rclone it names (rclone_binary), and validate it against that rclone: the text is
 * parsed once. Throws ConfigError for problems in the text. A failed probe (rclone missing or too old, RbmError
 * 'RcloneUnsupported') is thrown too, unless `onProbeError` takes it: then the config is checked without
 * rclone's flags, and the runner reports the missing rclone per run.
 */
export async function parseConfigWithRclone(
  text: string | Uint8Array,
  options: { file: string; home: string; probe: RcloneProbe; onProbeError?: (error: unknown) => void },
): Promise<{ config: Config; caps: RcloneCapabilities | undefined }> {
  const source = readConfigSource(text, options.file);
  let caps: RcloneCapabilities | undefined;
  try {
    caps = await options.probe(configuredRcloneBinary(source, options.home));
  } catch (e: unknown) {
    if (!options.onProbeError) {
      // A broken config is the first thing to fix: report it before a missing rclone.
      validateConfigSource(source, { home: options.home });
      throw e;
    }
    options.onProbeError(e);
  }
  return { config: validateConfigSource(source, { home: options.home, ...(caps === undefined ? {} : { caps }) }), caps };
}

/**
 * A loader that remembers the last config it validated: a reload of unchanged bytes, checked against the same
 * rclone (the probe answers with the same capabilities object while the binary is unchanged), returns that config
 * without parsing again. Parsing is most of a reload's cost (the YAML parser: ~100 ms per 1,000 jobs).
 */
export function createConfigLoader(options: { home: string; probe: RcloneProbe; onProbeError?: (error: unknown) => void }): (path: string) => Promise<{ config: Config; caps: RcloneCapabilities | undefined }> {
  let last: { file: string; bytes: Uint8Array; caps: RcloneCapabilities; config: Config } | undefined;
  return async (path) => {
    const file = resolve(path);
    const bytes = await readConfigFile(file);
    if (last && last.file === file && Buffer.compare(last.bytes, bytes) === 0) {
      const caps = await options.probe(last.config.global.rcloneBinary).catch(() => undefined);
      if (caps === last.caps) return { config: last.config, caps };
    }
    const loaded = await parseConfigWithRclone(bytes, { ...options, file });
    last = loaded.caps === undefined ? undefined : { file, bytes: Uint8Array.from(bytes), caps: loaded.caps, config: loaded.config };
    return loaded;
  };
}

/** Read the file once, then parseConfigWithRclone. */
export async function loadConfigWithRclone(
  path: string,
  options: { home: string; probe: RcloneProbe; onProbeError?: (error: unknown) => void },
): Promise<{ config: Config; caps: RcloneCapabilities | undefined }> {
  const file = resolve(path);
  return parseConfigWithRclone(await readConfigFile(file), { ...options, file });
}
