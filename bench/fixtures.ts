// Fixture trees: N small files (1 KiB) in 100-file directories, a byte-identical copy for the other side, and
// "100 changed" edits spread over the tree.

import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FILES_PER_DIR = 100;
export const FILE_SIZE = 1024;

function content(index: number, round: number): Buffer {
  const line = `file ${index} round ${round} `;
  return Buffer.from(line.repeat(Math.ceil(FILE_SIZE / line.length)).slice(0, FILE_SIZE));
}

function filePath(root: string, index: number): string {
  return join(root, `d${String(Math.floor(index / FILES_PER_DIR)).padStart(4, '0')}`, `f${String(index).padStart(6, '0')}.txt`);
}

/** Creates `files` files under `root` (which may already exist). */
export function makeTree(root: string, files: number): void {
  for (let dir = 0; dir * FILES_PER_DIR < files; dir++) mkdirSync(join(root, `d${String(dir).padStart(4, '0')}`), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(filePath(root, i), content(i, 0));
}

/** A copy of `from` at `to` with modification times kept, so a first resync finds nothing to transfer. */
export function copyTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true, preserveTimestamps: true });
}

/** Rewrites `count` files spread evenly over a tree of `files` files (new content, new mtime). */
export function changeFiles(root: string, files: number, count: number, round: number): void {
  const step = Math.max(1, Math.floor(files / count));
  for (let k = 0; k < count; k++) {
    const i = (k * step + (round % step)) % files;
    writeFileSync(filePath(root, i), content(i, round));
  }
}
