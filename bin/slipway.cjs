#!/usr/bin/env node
// Launcher. `npm ci` builds dist/ through the `prepare` script; dist/cli.cjs is the bundled CLI.
// v8-compile-cache keeps V8's compiled code for it between runs (set DISABLE_V8_COMPILE_CACHE=1 to turn off).
"use strict";
// Code compiled by v8-compile-cache cannot use import(): ES-module-only dependencies loaded on demand
// (the Kubernetes client library) are imported through this function, compiled by Node.js itself.
globalThis.__slipwayImport = (specifier) => import(specifier);
require("v8-compile-cache");
require("../dist/cli.cjs")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
