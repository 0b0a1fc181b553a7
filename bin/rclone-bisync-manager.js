#!/usr/bin/env node
import '../dist/src/bin/daemon.js';
