// Bundles the two executables (src/bin/daemon.ts, src/bin/rbmctl.ts) into dist/bundle/ with esbuild: one file each
// plus shared chunks for what rbmctl imports lazily. Start-up was mostly Node resolving and reading hundreds of
// module files (winston, yargs, dbus-next, yaml); a bundle is read in one go. See docs/performance.md.
// `dbus-next` is the maintained fork @jellybrick/dbus-next under its old name (an npm alias; no usocket addon).
// Outside the bundles: sd-notify (optional native addon, loaded when installed) and x11 (the X11 transport that
// dbus-next requires only for an X11 bus address, never used here). The bundles need nothing else at run time.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// dbus-next requires xml2js (and Node's crypto) when it loads and makes an XML Builder for every connection, but
// this project never has it write or parse XML (Introspect is answered from dbus/*.xml by src/dbus/message-guard.ts;
// the client sends raw messages), and crypto is only for the cookie login a session bus does not ask for. Loading
// them on first use keeps ~15 ms of module set-up out of every rbmctl start (docs/performance.md). Same API.
// xml2js is bundled into a file of its own (dist/bundle/vendor-xml2js.cjs), so its source is not even parsed then.
const LAZY_XML2JS = `let real;
const load = () => (real ??= require('./vendor-xml2js.cjs'));
class Builder { constructor(options) { this.options = options; } buildObject(value) { return new (load().Builder)(this.options).buildObject(value); } }
class Parser { constructor(options) { this.options = options; } parseString(xml, done) { return new (load().Parser)(this.options).parseString(xml, done); } }
module.exports = { Builder, Parser };`;
const LAZY_CRYPTO = `const load = () => require('node:crypto');
module.exports = { createHash: (...args) => load().createHash(...args), randomBytes: (...args) => load().randomBytes(...args) };`;
const deferDbusNextLoads = {
  name: 'defer-dbus-next-loads',
  setup(b) {
    const lazy = (contents) => (args) => ({ path: args.importer, namespace: 'lazy', pluginData: { contents, resolveDir: dirname(args.importer) } });
    b.onResolve({ filter: /^xml2js$/ }, (args) => (/[\\/]dbus-next[\\/]/.test(args.importer) ? lazy(LAZY_XML2JS)(args) : undefined));
    b.onResolve({ filter: /^crypto$/ }, (args) => (/[\\/]dbus-next[\\/]lib[\\/]handshake\.js$/.test(args.importer) ? lazy(LAZY_CRYPTO)(args) : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({ contents: args.pluginData.contents, resolveDir: args.pluginData.resolveDir, loader: 'js' }));
    // The shim's require of the vendored file stays a run-time require (the banner's, relative to the bundle).
    b.onResolve({ filter: /^\.\/vendor-xml2js\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

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
  plugins: [deferDbusNextLoads],
  // CommonJS dependencies (winston, dbus-next) call require() for Node's built-ins; an ES module has none. Built-ins
  // come from process.getBuiltinModule (Node >= 20.16): setting up createRequire cost ~7 ms of every rbmctl start.
  // Anything else (the optional sd-notify addon, loaded with import()) never goes through this require.
  banner: { js: "import { createRequire as __rbmCreateRequire } from 'node:module'; const require = (id) => process.getBuiltinModule(id) ?? __rbmCreateRequire(import.meta.url)(id);" },
  // Less text to read and parse at every start; identifiers stay, so stack traces keep their function names.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
// xml2js as one CommonJS file beside the bundles, required by the shim above on first use only.
await build({
  absWorkingDir: root,
  stdin: { contents: "module.exports = require('xml2js');", resolveDir: root, loader: 'js' },
  outfile: `${outdir}/vendor-xml2js.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
