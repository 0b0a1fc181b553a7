// bin/require-node.js: every command stops with a sentence and exit 69 on a Node.js older than engines.node, before
// any bundle loads. Runs the real file next to a package.json whose engines we choose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';

function runWithEngines(engines: string): { status: number | null; stderr: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-require-node-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(PROJECT_ROOT, 'bin/require-node.js'), join(dir, 'bin/require-node.js'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', engines: { node: engines } }));
    writeFileSync(join(dir, 'bin/main.js'), "import { requireNode } from './require-node.js';\nrequireNode('rbmctl');\nconsole.log('loaded');\n");
    const r = spawnSync(process.execPath, [join(dir, 'bin/main.js')], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a Node.js older than engines.node stops with what it found, what it needs and how to point at another node', () => {
  const r = runWithEngines('>=99.1');
  assert.equal(r.status, 69);
  assert.equal(r.stdout, '', 'nothing after the check ran');
  assert.match(r.stderr, new RegExp(`^rbmctl: needs Node\\.js 99\\.1 or later; .+ is ${process.versions.node.replace(/\./g, '\\.')}\\.$`, 'm'));
  assert.match(r.stderr, /RBM_NODE=\/path\/to\/node/);
});

test('the Node.js running the tests satisfies the project\'s own engines.node, and then the program goes on', () => {
  const engines = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const r = runWithEngines(engines);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'loaded\n');
  const [major, minor] = process.versions.node.split('.').map(Number);
  assert.equal(runWithEngines(`>=${major}.${minor! + 1}`).status, 69, 'one minor version above this one is refused');
});
