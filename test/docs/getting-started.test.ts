// docs/getting-started.md and README.md, run as a new user would and compared with what they show.
import { docsToTest, testDocs } from "./run-docs.js";

testDocs(docsToTest(["readme", "docs"]));
