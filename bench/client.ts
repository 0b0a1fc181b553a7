// A lean D-Bus client for the bench: raw method calls (no proxy introspection in the timed path) and signal
// listeners on the manager interface, on one dbus-next connection to the private bus.

import * as dbus from 'dbus-next';
import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from '../src/errors.js';

export { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH };

export interface BusClient {
  bus: dbus.MessageBus;
  /** A method call; rejects after `timeoutMs` (default 60 s): dbus-next itself never times out. */
  call(member: string, signature: string, body: unknown[], options?: { path?: string; iface?: string; destination?: string; timeoutMs?: number }): Promise<unknown[]>;
  /** Calls `listener` for every manager signal named `member` (args as sent). Returns an unsubscribe function. */
  onSignal(member: string, listener: (args: unknown[]) => void): () => void;
  /** The unique name owning `name`, or undefined. */
  owner(name: string): Promise<string | undefined>;
  close(): void;
}

export async function connectClient(address: string): Promise<BusClient> {
  const bus = dbus.sessionBus({ busAddress: address });
  const listeners = new Map<string, Set<(args: unknown[]) => void>>();
  bus.on('message', (msg: dbus.Message) => {
    if (msg.type !== dbus.MessageType.SIGNAL || msg.interface !== MANAGER_INTERFACE || msg.member === undefined) return;
    for (const l of listeners.get(msg.member) ?? []) l(msg.body as unknown[]);
  });
  const call: BusClient['call'] = async (member, signature, body, options = {}) => {
    const pending = bus.call(
      new dbus.Message({
        destination: options.destination ?? BUS_NAME,
        path: options.path ?? OBJECT_PATH,
        interface: options.iface ?? MANAGER_INTERFACE,
        member,
        signature,
        body,
      }),
    );
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply to ${options.iface ?? MANAGER_INTERFACE}.${member} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const reply = await Promise.race([pending, expired]);
      return (reply?.body ?? []) as unknown[];
    } finally {
      clearTimeout(timer);
    }
  };
  await call('AddMatch', 's', [`type='signal',interface='${MANAGER_INTERFACE}'`], { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus' });
  return {
    bus,
    call,
    onSignal(member, listener) {
      let set = listeners.get(member);
      if (!set) listeners.set(member, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    async owner(name) {
      try {
        const [owner] = await call('GetNameOwner', 's', [name], { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus' });
        return typeof owner === 'string' ? owner : undefined;
      } catch {
        return undefined;
      }
    },
    close: () => bus.disconnect(),
  };
}

/** The value inside a dbus-next Variant (or the value itself). */
export function variantValue(v: unknown): unknown {
  return typeof v === 'object' && v !== null && 'value' in v ? v.value : v;
}

/** A job's Watch state and whether any run is going or queued, from one Status() call. */
export async function jobStatus(client: BusClient, job: string): Promise<{ watch: string; busy: boolean }> {
  const [raw] = await client.call('Status', '', []);
  const status = raw as Record<string, unknown>;
  const jobs = (variantValue(status.jobs) ?? []) as Record<string, unknown>[];
  const entry = jobs.find((j) => variantValue(j.name) === job) ?? {};
  const running = (variantValue(status.running_jobs) ?? []) as string[];
  const queued = (variantValue(status.queued_jobs) ?? []) as string[];
  const watch = variantValue(entry.watch);
  return { watch: typeof watch === 'string' ? watch : 'off', busy: running.length > 0 || queued.length > 0 };
}
