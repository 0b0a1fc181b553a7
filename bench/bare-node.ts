// The floor for start-up and idle cost: a Node process that only connects to the session bus, owns a name and
// sends READY=1 (through the same sd-notify addon as the service; "ready" on stdout if the addon is missing).
// With --stay it then idles on its bus connection until SIGTERM.

import { createRequire } from 'node:module';
import * as dbus from 'dbus-next';

const bus = dbus.sessionBus();
const reply = await bus.requestName(`io.github.rbmanager.BenchBare.p${process.pid}`, dbus.NameFlag.DO_NOT_QUEUE);
if (reply !== dbus.RequestNameReply.PRIMARY_OWNER) {
  console.error(`bare-node: could not own the name (reply ${reply})`);
  process.exit(1);
}
let notified = false;
if (process.env.NOTIFY_SOCKET !== undefined) {
  try {
    const notify = createRequire(import.meta.url)('sd-notify') as { ready(): void };
    notify.ready();
    notified = true;
  } catch {
    // no addon: fall back to stdout
  }
}
if (!notified) console.log('ready');
if (process.argv.includes('--stay')) process.once('SIGTERM', () => bus.disconnect());
else bus.disconnect();
