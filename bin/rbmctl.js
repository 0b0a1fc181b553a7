#!/usr/bin/env node
import { requireNode } from './require-node.js';

requireNode('rbmctl');
await import('../dist/bundle/rbmctl.js');
