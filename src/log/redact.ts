// Removes secrets from log text and metadata: `password=…`, tokens, `user:pass@` in URLs.

const SECRET_KEY = /(pass(?:word|wd)?|secret|token|api[_-]?key|client[_-]?secret|auth(?:orization)?|bearer|credentials?)/i;
const KEY_VALUE = /\b([\w-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|authorization|bearer)[\w-]*)(["']?\s*[=:]\s*["']?)([^\s"',&;]+)/gi;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):([^@\s/]+)@/gi;

export const REDACTED = '***';

export function redactText(text: string): string {
  return text.replace(URL_USERINFO, `$1:${REDACTED}@`).replace(KEY_VALUE, `$1$2${REDACTED}`);
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
