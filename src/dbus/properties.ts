// Exported properties: which values changed since the last PropertiesChanged, and values as variants.

import * as dbus from 'dbus-next';
import type { VariantDict } from './variants.js';

const { Variant } = dbus;

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** The properties of `signatures` whose value differs between `previous` and `next` (their new values). */
export function changedProperties<T extends object>(previous: T, next: T, signatures: Readonly<Record<string, string>>): Record<string, unknown> {
  const before = previous as Readonly<Record<string, unknown>>;
  const after = next as Readonly<Record<string, unknown>>;
  const changed: Record<string, unknown> = {};
  for (const key of Object.keys(signatures)) {
    if (!sameValue(before[key], after[key])) changed[key] = after[key];
  }
  return changed;
}

export function propertyVariants(values: object, signatures: Readonly<Record<string, string>>): VariantDict {
  const source = values as Readonly<Record<string, unknown>>;
  const out: VariantDict = {};
  for (const [name, signature] of Object.entries(signatures)) out[name] = new Variant(signature, source[name]);
  return out;
}

/** configureMembers' description of read-only properties. */
export function readOnlyProperties(signatures: Readonly<Record<string, string>>): Record<string, { signature: string; access: 'read' }> {
  return Object.fromEntries(Object.entries(signatures).map(([name, signature]) => [name, { signature, access: 'read' as const }]));
}
