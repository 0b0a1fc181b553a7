// Calls dbus-next would get wrong, answered before it sees them: a wrong signature (dbus-next would pass the wrong
// values on), Set on a read-only property (it would run the setter after refusing), unknown job paths, interfaces
// and properties, a method call without an interface header, GetMachineId (it reads the id without a catch), and
// Introspect (its reply has no argument names, annotations or docs).

import { readFileSync } from 'node:fs';
import * as dbus from 'dbus-next';
import { errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import { quoteForMessage } from '../api/requests.js';
import { JOB_INTERFACE, JOB_METHODS, JOB_PATH_PREFIX, JOB_PROPERTIES, MANAGER_INTERFACE, MANAGER_METHODS, MANAGER_PROPERTIES, OBJECT_MANAGER_INTERFACE, OBJECT_MANAGER_METHODS, OBJECT_PATH, PROPERTIES_INTERFACE } from './contract.js';
import { introspectionDocument } from './introspection.js';

const { Message } = dbus;
type Message = dbus.Message;

const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';
const INTROSPECTABLE_INTERFACE = 'org.freedesktop.DBus.Introspectable';
const PEER_INTERFACE = 'org.freedesktop.DBus.Peer';
const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const MEMBER_TABLE: Record<string, Record<string, { in: string; out: string }>> = {
  [MANAGER_INTERFACE]: MANAGER_METHODS,
  [OBJECT_MANAGER_INTERFACE]: OBJECT_MANAGER_METHODS,
  [JOB_INTERFACE]: JOB_METHODS,
};
const PROPERTY_TABLE: Record<string, Record<string, string>> = {
  [MANAGER_INTERFACE]: MANAGER_PROPERTIES,
  [OBJECT_MANAGER_INTERFACE]: {},
  [JOB_INTERFACE]: JOB_PROPERTIES,
};
const PROPERTY_SIGNATURES: Record<string, string> = { Get: 'ss', GetAll: 's', Set: 'ssv' };

/** What the guard needs to know about the exported job objects. */
export interface ExportedJobs {
  hasPath(path: string): boolean;
  count(): number;
}

function has(table: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, key);
}

function interfacesAt(path: string): string[] {
  return path === OBJECT_PATH ? [MANAGER_INTERFACE, OBJECT_MANAGER_INTERFACE] : [JOB_INTERFACE];
}

function machineId(): string {
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (id) return id;
    } catch {
      // try the next location
    }
  }
  return '';
}

/** Installs the guard as the first method handler of `bus`. */
export function installMessageGuard(bus: dbus.MessageBus, jobs: ExportedJobs, logger: Logger): void {
  const isOurPath = (path: string): boolean => path === OBJECT_PATH || (path.startsWith(`${JOB_PATH_PREFIX}/`) && jobs.hasPath(path));

  /** Child nodes listed in an object's Introspect reply: the manager has the `job` node while any job exists. */
  const childNodesAt = (path: string): string[] => (path === OBJECT_PATH && jobs.count() > 0 ? [JOB_PATH_PREFIX.slice(OBJECT_PATH.length + 1)] : []);

  function reply(msg: Message, name: string, text: string): true {
    // dbus-next's typings declare newError(msg: string, …); it takes the call message.
    bus.send(Message.newError(msg as unknown as string, name, text));
    return true;
  }

  function answer(msg: Message, signature: string, body: unknown[]): true {
    bus.send(Message.newMethodReturn(msg, signature, body));
    return true;
  }

  function checkPropertiesCall(msg: Message, path: string, signature: string): boolean {
    const expected = has(PROPERTY_SIGNATURES, msg.member) ? PROPERTY_SIGNATURES[msg.member] : undefined;
    if (expected === undefined) return false;
    if (signature !== expected) return reply(msg, INVALID_ARGS, `${msg.member} expects arguments of type '${expected}', got '${signature}'`);
    const [ifaceName, property] = msg.body as [string, string?];
    if (!interfacesAt(path).includes(ifaceName)) {
      if (ifaceName.startsWith('org.freedesktop.DBus.') || (msg.member === 'GetAll' && ifaceName === '')) return false;
      return reply(msg, 'org.freedesktop.DBus.Error.UnknownInterface', `no interface ${quoteForMessage(ifaceName)} at ${path}`);
    }
    const known = property !== undefined && has(PROPERTY_TABLE[ifaceName] ?? {}, property);
    const unknownProperty = (): true => reply(msg, 'org.freedesktop.DBus.Error.UnknownProperty', `no property ${quoteForMessage(property ?? '')} on ${ifaceName}`);
    if (msg.member === 'Get' && !known) return unknownProperty();
    if (msg.member === 'Set') {
      // Every property is read-only; dbus-next would also run the setter after refusing (gotcha 1).
      if (!known) return unknownProperty();
      return reply(msg, 'org.freedesktop.DBus.Error.PropertyReadOnly', `property ${property} is read-only`);
    }
    return false;
  }

  function checkMethodCall(msg: Message, path: string, signature: string): boolean {
    const here = interfacesAt(path);
    let target: string | undefined = msg.interface;
    if (target === undefined || target === '') {
      // The interface header is optional in a method call: find the member among this object's interfaces.
      target = here.find((name) => has(MEMBER_TABLE[name] ?? {}, msg.member));
      if (target === undefined) return false;
      msg.interface = target;
    }
    if (!here.includes(target)) return false;
    const table = MEMBER_TABLE[target] ?? {};
    const member = has(table, msg.member) ? table[msg.member] : undefined;
    if (member === undefined) return false;
    if (member.in !== signature) return reply(msg, INVALID_ARGS, `${msg.member} expects arguments of type '${member.in}', got '${signature}'`);
    return false;
  }

  /** True when the call was answered here; false hands it on to dbus-next. */
  function intercept(msg: Message): boolean {
    if (msg.type !== dbus.MessageType.METHOD_CALL) return false;
    const path = msg.path;
    const iface = msg.interface;
    const signature = msg.signature || '';
    if (iface === PEER_INTERFACE && msg.member === 'GetMachineId') {
      const id = machineId();
      return id ? answer(msg, 's', [id]) : reply(msg, 'org.freedesktop.DBus.Error.FileNotFound', 'no machine id on this system');
    }
    if (msg.member === 'Introspect' && signature === '' && (iface === INTROSPECTABLE_INTERFACE || !iface) && path !== undefined && isOurPath(path)) {
      return answer(msg, 's', [introspectionDocument(interfacesAt(path), childNodesAt(path))]);
    }
    if (iface === INTROSPECTABLE_INTERFACE || iface === PEER_INTERFACE) return false;
    if (path === undefined) return false;
    if (!isOurPath(path)) {
      if (path.startsWith(`${JOB_PATH_PREFIX}/`)) return reply(msg, 'org.freedesktop.DBus.Error.UnknownObject', `no job object at ${path}`);
      return false;
    }
    if (iface === PROPERTIES_INTERFACE) return checkPropertiesCall(msg, path, signature);
    return checkMethodCall(msg, path, signature);
  }

  bus.addMethodHandler((msg: Message): boolean => {
    try {
      return intercept(msg);
    } catch (e: unknown) {
      logger.error('D-Bus message pre-check failed', { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
      return false;
    }
  });
}
