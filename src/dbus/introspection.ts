// The Introspect reply of our objects: the contract of dbus/*.xml as installed (argument names, annotations, docs),
// plus the standard interfaces with the argument names of the D-Bus specification. dbus-next builds its own reply
// from the member signatures only (arg_0, arg_1, no annotations), so the server answers Introspect with this.

import { INTERFACE_XML } from './introspection.generated.js';
import { OBJECT_MANAGER_INTERFACE, PROPERTIES_INTERFACE } from './contract.js';

const DOCTYPE = '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n';

/** Every exported object answers these (dbus-next implements them); names as in the D-Bus specification. */
const STANDARD_INTERFACES = `  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect">
      <arg name="xml_data" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId">
      <arg name="machine_uuid" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="${PROPERTIES_INTERFACE}">
    <method name="Get">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="out"/>
    </method>
    <method name="GetAll">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="props" type="a{sv}" direction="out"/>
    </method>
    <method name="Set">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="in"/>
    </method>
    <signal name="PropertiesChanged">
      <arg name="interface_name" type="s"/>
      <arg name="changed_properties" type="a{sv}"/>
      <arg name="invalidated_properties" type="as"/>
    </signal>
  </interface>
`;

const OBJECT_MANAGER = `<interface name="${OBJECT_MANAGER_INTERFACE}">
    <method name="GetManagedObjects">
      <arg name="objpath_interfaces_and_properties" type="a{oa{sa{sv}}}" direction="out"/>
    </method>
    <signal name="InterfacesAdded">
      <arg name="object_path" type="o"/>
      <arg name="interfaces_and_properties" type="a{sa{sv}}"/>
    </signal>
    <signal name="InterfacesRemoved">
      <arg name="object_path" type="o"/>
      <arg name="interfaces" type="as"/>
    </signal>
  </interface>`;

/** The <interface> element of one of our interfaces (or the standard ObjectManager). */
export function interfaceXml(name: string): string {
  if (name === OBJECT_MANAGER_INTERFACE) return OBJECT_MANAGER;
  const element = INTERFACE_XML[name];
  if (element === undefined) throw new Error(`no introspection XML for ${name} (dbus/${name}.xml, then npm run generate)`);
  return element;
}

/** The whole Introspect reply of an object with these interfaces and child nodes (single path elements). */
export function introspectionDocument(interfaces: readonly string[], children: readonly string[]): string {
  const ours = interfaces.map((name) => `  ${interfaceXml(name)}\n`).join('');
  const nodes = children.map((child) => `  <node name="${child}"/>\n`).join('');
  return `${DOCTYPE}<node>\n${STANDARD_INTERFACES}${ours}${nodes}</node>\n`;
}
