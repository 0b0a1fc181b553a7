// Entry point of the service executable: real adapters into the composition root, then exit with its code.
import { runDaemon } from '../service/daemon.js';
import { createRealPlatform } from '../service/platform.js';

const code = await runDaemon(process.argv.slice(2), createRealPlatform());
process.exitCode = code;
// Anything left holding the loop (a stuck handle) must not keep a stopped service alive.
setTimeout(() => process.exit(code), 3000).unref();
