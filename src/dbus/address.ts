// Session bus addresses for dbus-next: `unix:path=` is rewritten to dbus-next's `unix:socket=` form, so the
// connection uses Node's net.Socket. (The original dbus-next sent `unix:path=` through the usocket addon, which
// ignored short sendmsg() results and corrupted large replies; the fork we use has no usocket at all.) `unix:abstract=`
// cannot be reached: Node 20 cannot connect to abstract sockets (libuv pads the name); systemd's session bus is a path.
// sessionBusAddress() finds the session bus the way sd-bus and GLib do, for rbmctl and the service alike.

/** D-Bus address values escape bytes as %XX. */
function unescapeValue(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value[i] === '%' ? value.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** One `unix:path=` entry → `unix:socket=<path>`; others unchanged. */
function rewriteEntry(entry: string): string {
  const colon = entry.indexOf(':');
  if (colon < 0 || entry.slice(0, colon).toLowerCase() !== 'unix') return entry;
  const params = new Map<string, string>();
  for (const pair of entry.slice(colon + 1).split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) params.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const path = params.get('path');
  const target = path === undefined ? undefined : unescapeValue(path);
  // dbus-next splits its params on ',' and '=' without unescaping: such a path keeps the original form.
  if (target === undefined || /[,;=]/.test(target)) return entry;
  return `unix:socket=${target}`;
}

/** The address dbus-next should be given for `address` (a `;`-separated list, tried in order). */
export function nodeSocketAddress(address: string): string {
  return address.split(';').map(rewriteEntry).join(';');
}

/** Escape a value for a D-Bus address: bytes outside [-0-9A-Za-z_/.*] become %XX. */
export function escapeAddressValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && /^[-0-9A-Za-z_/.*]$/.test(c) ? c : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * The session bus address as sd-bus and GLib find it: $DBUS_SESSION_BUS_ADDRESS, else the user bus socket
 * `unix:path=$XDG_RUNTIME_DIR/bus` (what cron jobs, `sudo -u` and `machinectl shell` sessions have). Undefined when
 * neither is set; a relative XDG_RUNTIME_DIR is ignored, as the XDG base directory spec asks.
 */
export function sessionBusAddress(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  if (address) return address;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (!runtimeDir?.startsWith('/')) return undefined;
  return `unix:path=${escapeAddressValue(`${runtimeDir.replace(/\/+$/, '')}/bus`)}`;
}
