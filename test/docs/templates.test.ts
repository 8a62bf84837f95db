// The README that `slipway init` writes for each template, run in a new project of that template.
import { docsToTest, testDocs } from "./run-docs.js";

testDocs(docsToTest(["templates"]));
