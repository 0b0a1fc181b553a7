// Removes secrets from log text and metadata: `password=…`, tokens, `user:pass@` in URLs, the value after a secret
// rclone option name (`--b2-key=…`, `RCLONE_SFTP_PASS=…`), and the exact secret values of the config (maskingLogger).

import { isSecretOption, maskSecretValues } from '../config/secret-options.js';
import type { LogMeta, Logger } from '../ports.js';

const SECRET_KEY = /(pass(?:word|wd)?|secret|token|api[_-]?key|client[_-]?secret|auth(?:orization)?|bearer|credentials?)/i;
const KEY_VALUE = /\b([\w-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|authorization|bearer)[\w-]*)(["']?\s*[=:]\s*["']?)([^\s"',&;]+)/gi;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):([^@\s/]+)@/gi;
/** `Authorization: Bearer <token>`: the key rule would only mask the word "Bearer". A credential has a digit or a sign. */
const AUTH_SCHEME = /\b(Bearer|Basic|Digest)\s+(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/gi;

/** A value after an option name: `--b2-key=v`, `--b2-key "v"` (rclone -vv), `b2-key="v"`, `RCLONE_B2_KEY=v`. */
const OPTION_VALUE = /(?<![\w-])(--|RCLONE_)?([A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*)(=|\s+(?=["']))(["']?)([^\s"',&;]+)/g;

export const REDACTED = '***';

function maskOptionValue(match: string, prefix: string | undefined, name: string, sep: string, quote: string): string {
  // `name "value"` is masked only in the flag form: in prose a word before a quote is not an option.
  if (sep.trim() === '' && prefix !== '--') return match;
  return isSecretOption(name) ? `${prefix ?? ''}${name}${sep}${quote}${REDACTED}` : match;
}

export function redactText(text: string): string {
  return text
    .replace(URL_USERINFO, `$1:${REDACTED}@`)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(OPTION_VALUE, maskOptionValue)
    .replace(KEY_VALUE, `$1$2${REDACTED}`);
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
