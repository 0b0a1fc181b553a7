#!/usr/bin/env node
import '../dist/src/bin/rbmctl.js';
