// JSON text for values that may hold D-Bus `t`/`x` integers (bigint), which JSON.stringify refuses.

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
