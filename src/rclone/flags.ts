// Option maps → rclone flags, the one way used everywhere (config, CLI, D-Bus).
// A value is always attached as `--flag=value`, so no value can smuggle in a flag of its own.

import type { OptionMap, OptionValue } from '../config/types.js';

/** `max_delete` and `max-delete` name the same flag; rclone spells it with dashes. */
export function flagName(key: string): string {
  return key.replace(/_/g, '-');
}

function valueText(value: string | number): string {
  return typeof value === 'number' ? String(value) : value;
}

/** Flags for one option: `true`/`null` → bare flag, `false` → nothing, list → the flag repeated. */
export function optionFlags(key: string, value: OptionValue): string[] {
  const flag = `--${flagName(key)}`;
  if (value === true || value === null) return [flag];
  if (value === false) return [];
  if (Array.isArray(value)) return value.map((item: string | number) => `${flag}=${valueText(item)}`);
  return [`${flag}=${valueText(value as string | number)}`];
}

/**
 * Merge option maps, lowest precedence first. Keys are compared by flag name, so `max_delete` in a job
 * overrides `max-delete` from the global map. A later `false` removes an earlier flag.
 */
export function mergeOptionMaps(...maps: readonly (OptionMap | undefined)[]): Map<string, OptionValue> {
  const merged = new Map<string, OptionValue>();
  for (const map of maps) {
    if (!map) continue;
    for (const [key, value] of Object.entries(map)) {
      const name = flagName(key);
      merged.delete(name); // re-insert so the order follows the winning map
      merged.set(name, value);
    }
  }
  return merged;
}

/** The argv fragment for merged options, in order, secrets included: rclone's argv is built with splitSecretOptions (secret-options.ts). */
export function buildOptionFlags(...maps: readonly (OptionMap | undefined)[]): string[] {
  const flags: string[] = [];
  for (const [name, value] of mergeOptionMaps(...maps)) flags.push(...optionFlags(name, value));
  return flags;
}
