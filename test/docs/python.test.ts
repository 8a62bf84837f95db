// docs/python.md, run and compared with what it shows: it builds and installs the Python client's
// wheel, starts a server, and runs the page's Python examples with doctest (a file of its own, so
// the docs pages run in parallel with it).
import { join } from "node:path";
import { REPO } from "../helpers/cli.js";
import { testDocs } from "./run-docs.js";

testDocs([join(REPO, "docs", "python.md")]);
