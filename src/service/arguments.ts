// The few argument checks that stay in the service (paging numbers, a job definition's shape). Job names, job
// lists and run options are parsed once by the adapters through src/api/requests.ts; the service trusts them.
import { RbmError } from '../errors.js';

/** A value safe to quote in an error message, whatever the caller sent. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
}

export function invalidArgs(message: string): RbmError {
  return new RbmError('InvalidArgs', message);
}
