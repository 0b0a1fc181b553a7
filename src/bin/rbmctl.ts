// Entry point of the rbmctl executable: the only place that touches process.argv, signals and process.exit.
import { main } from '../cli/main.js';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
process.exit(await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }, { abort: stop.signal }));
