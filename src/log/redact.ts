// Removes secrets from log text and metadata: `password=…`, tokens, `user:pass@` in URLs, the value after a secret
// rclone option name (`--b2-key=…`, `RCLONE_SFTP_PASS=…`), and the exact secret values of the config (maskingLogger).

import { isSecretOption, maskSecretValues } from '../rclone/secret-options.js';
import type { LogMeta, Logger } from '../ports.js';

const SECRET_KEY = /(pass(?:word|wd)?|secret|token|api[_-]?key|client[_-]?secret|auth(?:orization)?|bearer|credentials?)/i;
/** `name=` or `"name": "` before a value: the value is masked when the name looks secret (SECRET_NAME). */
const KEY_VALUE = /(?<![\w-])([\w-]+)["']?\s*[=:]\s*["']?(?=[^\s"',&;])/g;
const SECRET_NAME = /pass(?:word|wd)?|secret|token|api[_-]?key|authorization|bearer/i;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^/\s:@]+):([^@\s/]+)@/gi;
/** `Authorization: Bearer <token>`: the key rule would only mask the word "Bearer". A credential has a digit or a sign. */
const AUTH_SCHEME = /\b(Bearer|Basic|Digest)\s+(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/gi;
/** An option name before a value: `--b2-key=v`, `--b2-key "v"` (rclone -vv), `b2-key="v"`, `RCLONE_B2_KEY=v`. */
const OPTION_VALUE = /(?<![\w-])(--|RCLONE_)?([A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*)(=|\s+(?=["']))["']?(?=[^\s"',&;])/g;
/** The value itself, read from where a name's match ends. */
const VALUE = /[^\s"',&;]+/y;

export const REDACTED = '***';

/** A secret option name (rclone/secret-options.ts); `name "value"` counts only in the flag form, not in prose. */
function isSecretOptionMatch(m: RegExpExecArray): boolean {
  const [, prefix, name = '', sep = ''] = m;
  if (sep.trim() === '' && prefix !== '--') return false;
  return isSecretOption(name);
}

/**
 * Masks the value that follows each match (a name and its separator) that `isSecret` accepts. Names are matched
 * broadly and tested afterwards, and a value is read only when it is masked: a single regex with the secret words
 * inside the name pattern backtracked quadratically on a long token (a 64 KiB line took seconds). Scanning goes on at
 * the value, which may itself be a name (`DEBUG : Authorization: Bearer x`).
 */
function maskValuesAfter(text: string, pattern: RegExp, isSecret: (m: RegExpExecArray) => boolean): string {
  const re = new RegExp(pattern.source, pattern.flags);
  const value = new RegExp(VALUE.source, VALUE.flags);
  let out = '';
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (!isSecret(m)) continue;
    const valueAt = m.index + m[0].length;
    value.lastIndex = valueAt;
    const length = value.exec(text)?.[0].length ?? 0;
    out += `${text.slice(last, valueAt)}${REDACTED}`;
    last = valueAt + length;
    re.lastIndex = last;
  }
  return out + text.slice(last);
}

export function redactText(text: string): string {
  const masked = text.replace(URL_USERINFO, `$1:${REDACTED}@`).replace(AUTH_SCHEME, `$1 ${REDACTED}`);
  return maskValuesAfter(maskValuesAfter(masked, OPTION_VALUE, isSecretOptionMatch), KEY_VALUE, (m) => SECRET_NAME.test(m[1] ?? ''));
}

/** `text` redacted and with every known secret value (from the config) masked. */
export function redactSecrets(text: string, values: readonly string[]): string {
  return redactText(maskSecretValues(text, values, REDACTED));
}

/** Deep copy of `value` with every known secret value masked in every string. */
function maskDeep(value: unknown, values: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return maskSecretValues(value, values, REDACTED);
  if (value instanceof Error) return maskSecretValues(value.message, values, REDACTED);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, values, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskDeep(v, values, depth + 1)]));
}

/** `logger` (and its children) with the known secret values masked in messages and metadata, before any transport sees them. */
export function maskingLogger(logger: Logger, values: readonly string[]): Logger {
  if (values.length === 0) return logger;
  const call = (log: (message: string, meta?: LogMeta) => void) => (message: string, meta?: LogMeta): void => {
    log(maskSecretValues(message, values, REDACTED), meta === undefined ? undefined : (maskDeep(meta, values) as LogMeta));
  };
  return {
    debug: call((m, meta) => logger.debug(m, meta)),
    info: call((m, meta) => logger.info(m, meta)),
    warn: call((m, meta) => logger.warn(m, meta)),
    error: call((m, meta) => logger.error(m, meta)),
    child: (meta: LogMeta): Logger => maskingLogger(logger.child(maskDeep(meta, values) as LogMeta), values),
  };
}

/** Deep copy of `value` with secret-looking keys masked and every string redacted. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value instanceof Error) return redactText(value.message);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) && (typeof item === 'string' || typeof item === 'number') ? REDACTED : redactValue(item, depth + 1);
  }
  return out;
}
