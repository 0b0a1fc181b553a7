// Which rclone options hold secrets, and how they reach rclone without appearing on its command line (pure;
// used by config validation, the argv builder and log redaction).
// /proc/PID/cmdline is readable by every local user, /proc/PID/environ only by the process's owner, and rclone
// reads every flag from `RCLONE_<FLAG>`: so a secret option goes into the child's environment, never its argv.

import { flagName, mergeOptionMaps, optionFlags } from './flags.js';
import type { OptionMap, OptionValue } from '../config/types.js';

/** A word that names a secret when it ends a flag name: `sftp-pass`, `crypt-password2`, `b2-key`, `drive-token`. */
const SECRET_WORD = /^(pass|passwd|password|passphrase|secret|token|key|credentials?|cookies?|authorization)\d*$/;
/** Words after the secret word that still name the secret itself (or something derived from it): `sse-customer-key-base64`, `key-pem`. */
const SECRET_FORMS = new Set(['base64', 'md5', 'pem']);
/** Secrets whose names do not end in a secret word. */
const SECRET_NAMES = new Set(['azureblob-sas-url', 'mega-session-id']);

/** Values shorter than this are not masked by value (masking "ab" everywhere would garble every line); the patterns still apply. */
export const MIN_MASKED_LENGTH = 4;

/**
 * True when the option `key` (either spelling) holds a secret: its last word is a secret word (`pass`, `password`,
 * `secret`, `token`, `key`, `credentials`, `cookies`, `authorization`, optionally with a digit), possibly followed by
 * `base64`/`md5`/`pem`, or it is one of a few named exceptions. Names such as `sftp-key-file`, `password-command`,
 * `token-url`, `s3-access-key-id` end in another word and are not secrets.
 */
export function isSecretOption(key: string): boolean {
  const name = flagName(key).toLowerCase();
  if (SECRET_NAMES.has(name)) return true;
  const words = name.split('-').filter((w) => w !== '');
  let last = words.length - 1;
  if (last > 0 && SECRET_FORMS.has(words[last] ?? '')) last--;
  return SECRET_WORD.test(words[last] ?? '');
}

/** `sftp_pass` → `RCLONE_SFTP_PASS` (rclone's name for the flag's environment variable). */
export function secretEnvName(key: string): string {
  return `RCLONE_${flagName(key).toUpperCase().replace(/-/g, '_')}`;
}

/** The text rclone would get for a secret value, or undefined when this value is no secret text (a bare flag, false, an empty string). */
function secretText(value: OptionValue): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/** Why a secret option cannot take `value`, or undefined. Never quotes the value. */
export function secretOptionProblem(key: string, value: OptionValue): string | undefined {
  if (!isSecretOption(key) || !Array.isArray(value)) return undefined;
  return `option "${key}" holds a secret and takes one value (expected a string, not a list: secrets reach rclone through its environment, one value per flag)`;
}

export interface SplitOptions {
  /** Flags for the argv: every option except the secret ones. */
  flags: string[];
  /** `RCLONE_<FLAG>` → value for every secret option in force. */
  env: Record<string, string>;
}

/** The merged options of `maps` (lowest precedence first), split into argv flags and the environment for the secrets. */
export function splitSecretOptions(maps: readonly (OptionMap | undefined)[]): SplitOptions {
  const out: SplitOptions = { flags: [], env: {} };
  for (const [name, value] of mergeOptionMaps(...maps)) {
    const text = isSecretOption(name) ? secretText(value) : undefined;
    if (text !== undefined) out.env[secretEnvName(name)] = text;
    else out.flags.push(...optionFlags(name, value));
  }
  return out;
}

/** Every secret value set anywhere in `maps` (whichever level wins), for masking. Lists count item by item. */
export function secretOptionValues(maps: readonly (OptionMap | undefined)[]): string[] {
  const values = new Set<string>();
  for (const map of maps) {
    if (!map) continue;
    for (const [key, value] of Object.entries(map)) {
      if (!isSecretOption(key)) continue;
      for (const item of Array.isArray(value) ? (value as readonly (string | number)[]) : [value]) {
        const text = secretText(item);
        if (text !== undefined) values.add(text);
      }
    }
  }
  return [...values];
}

/** `text` with every occurrence of each known secret value (at least MIN_MASKED_LENGTH long) replaced by `mask`. */
export function maskSecretValues(text: string, values: readonly string[], mask: string): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (value.length < MIN_MASKED_LENGTH) continue;
    out = out.split(value).join(mask);
  }
  return out;
}
