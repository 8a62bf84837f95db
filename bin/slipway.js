#!/usr/bin/env node
// Launcher. `npm ci` builds dist/ through the `prepare` script; dist/cli.js is the bundled CLI.
import { main } from "../dist/cli.js";
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
