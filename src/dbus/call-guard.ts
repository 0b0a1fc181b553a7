// Every failure of a method call leaves as a named D-Bus error (the error table); only unexpected ones are logged,
// with their stack, and the caller is told to look in the service log.

import * as dbus from 'dbus-next';
import { RbmError, errorName, errorText, printable } from '../errors.js';
import type { Logger } from '../ports.js';

const { DBusError } = dbus;

/** Runs one method's body; whatever it throws becomes a DBusError. */
export type CallGuard = <T>(member: string, fn: () => T | Promise<T>) => Promise<T>;

function toDBusError(e: unknown, member: string, logger: Logger): dbus.DBusError {
  if (e instanceof DBusError) return e;
  if (e instanceof RbmError) return new DBusError(e.dbusName, printable(e.describe()));
  logger.error(`internal error in ${member}`, { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
  return new DBusError(errorName('Internal'), `internal error in ${member}; the service log has the details`);
}

export function createCallGuard(logger: Logger): CallGuard {
  return async <T>(member: string, fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e: unknown) {
      throw toDBusError(e, member, logger);
    }
  };
}
