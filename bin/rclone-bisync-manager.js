#!/usr/bin/env node
import { requireNode } from './require-node.js';

requireNode('rclone-bisync-manager');
await import('../dist/bundle/daemon.js');
