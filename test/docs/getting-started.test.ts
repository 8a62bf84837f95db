// docs/getting-started.md and README.md, run as a new user would and compared with what they show.
import { docsToTest, testDocs } from "./run-docs.js";

// docs/python.md has its own file (python.test.ts).
testDocs(docsToTest(["readme", "docs"]).filter((f) => !f.endsWith("python.md")));
