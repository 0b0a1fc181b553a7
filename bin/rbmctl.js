#!/usr/bin/env node
import '../dist/bundle/rbmctl.js';
