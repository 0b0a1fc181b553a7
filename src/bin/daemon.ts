// Entry point of the service executable: real adapters into the composition root, then exit with its code.
import { runDaemon } from '../service/daemon.js';
import { createRealPlatform } from '../service/wiring.js';

// Never create world-writable files, whatever umask we were started with: rclone's listings (and synced files) follow
// the umask. Only the "other: write" bit is forced; group policy stays the user's.
process.umask(process.umask(0o022) | 0o002);

const code = await runDaemon(process.argv.slice(2), createRealPlatform());
process.exitCode = code;
// Anything left holding the loop (a stuck handle) must not keep a stopped service alive.
setTimeout(() => process.exit(code), 3000).unref();
