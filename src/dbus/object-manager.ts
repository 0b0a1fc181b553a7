// org.freedesktop.DBus.ObjectManager at the manager's path: the job objects and their properties in one call,
// and InterfacesAdded/InterfacesRemoved as jobs come and go.

import * as dbus from 'dbus-next';
import { OBJECT_MANAGER_INTERFACE, OBJECT_MANAGER_METHODS, OBJECT_MANAGER_SIGNALS } from './contract.js';
import type { CallGuard } from './call-guard.js';
import type { VariantDict } from './variants.js';

const Interface = dbus.interface.Interface;

export type ManagedObjects = Record<string, Record<string, VariantDict>>;

export class ObjectManagerInterface extends Interface {
  constructor(
    private readonly guard: CallGuard,
    private readonly managedObjects: () => ManagedObjects,
  ) {
    super(OBJECT_MANAGER_INTERFACE);
  }
  GetManagedObjects(): Promise<ManagedObjects> {
    return this.guard('GetManagedObjects', () => this.managedObjects());
  }
  InterfacesAdded(path: string, interfaces: Record<string, VariantDict>): [string, Record<string, VariantDict>] {
    return [path, interfaces];
  }
  InterfacesRemoved(path: string, interfaces: string[]): [string, string[]] {
    return [path, interfaces];
  }
}
ObjectManagerInterface.configureMembers({
  methods: { GetManagedObjects: { inSignature: '', outSignature: OBJECT_MANAGER_METHODS.GetManagedObjects.out } },
  signals: {
    InterfacesAdded: { signature: OBJECT_MANAGER_SIGNALS.InterfacesAdded },
    InterfacesRemoved: { signature: OBJECT_MANAGER_SIGNALS.InterfacesRemoved },
  },
});
