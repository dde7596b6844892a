#!/usr/bin/env node
// A committed shim, so npm links the `bowline` command at install time, before the build exists.
await import('../dist/main.js');
