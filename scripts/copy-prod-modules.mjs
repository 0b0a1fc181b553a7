// Copies the production part of node_modules (every package-lock.json entry not marked "dev") to a new directory,
// so an install needs no network when node_modules is present. Native builds (sd-notify) are copied as they are.
// Usage: node scripts/copy-prod-modules.mjs PROJECT_DIR DEST_NODE_MODULES
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [projectDir, dest] = process.argv.slice(2);
if (!projectDir || !dest) {
  console.error('usage: copy-prod-modules.mjs PROJECT_DIR DEST_NODE_MODULES');
  process.exit(2);
}
const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8'));
let copied = 0;
const missing = [];
for (const [key, entry] of Object.entries(lock.packages ?? {})) {
  if (!key.startsWith('node_modules/') || entry.dev || entry.link) continue;
  const from = join(projectDir, key);
  if (!existsSync(from)) {
    // Optional packages for other platforms are legitimately absent.
    if (!entry.optional && !entry.devOptional) missing.push(key);
    continue;
  }
  const to = join(dest, key.slice('node_modules/'.length));
  mkdirSync(to, { recursive: true });
  // Nested node_modules hold packages with their own lock entries (some of them dev-only): copied separately.
  const ownNested = join(from, 'node_modules');
  cpSync(from, to, { recursive: true, dereference: false, filter: (src) => src !== ownNested });
  copied++;
}
if (missing.length > 0) {
  console.error(`node_modules lacks production packages: ${missing.join(', ')} (run npm ci first)`);
  process.exit(1);
}
console.log(`copied ${copied} production packages`);
