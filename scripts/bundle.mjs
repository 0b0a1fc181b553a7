// Bundles the two executables (src/bin/daemon.ts, src/bin/rbmctl.ts) into dist/bundle/ with esbuild: one file each
// plus shared chunks for what rbmctl imports lazily. Start-up was mostly Node resolving and reading hundreds of
// module files (winston, yargs, dbus-next, yaml); a bundle is read in one go. See docs/performance.md.
// `dbus-next` is the maintained fork @jellybrick/dbus-next under its old name (an npm alias; no usocket addon).
// Outside the bundles: sd-notify (optional native addon, loaded when installed) and x11 (the X11 transport that
// dbus-next requires only for an X11 bus address, never used here). The bundles need nothing else at run time.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { daemon: 'src/bin/daemon.ts', rbmctl: 'src/bin/rbmctl.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked', // run with NODE_OPTIONS=--enable-source-maps for stack traces in src/ terms
  external: ['sd-notify', 'x11'],
  // CommonJS dependencies (winston, dbus-next) call require() for Node's built-ins; an ES module has none.
  banner: { js: "import { createRequire as __rbmCreateRequire } from 'node:module'; const require = __rbmCreateRequire(import.meta.url);" },
  // Less text to read and parse at every start; identifiers stay, so stack traces keep their function names.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
