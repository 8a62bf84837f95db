// The examples' READMEs, run and compared with what they show.
import { docsToTest, testDocs } from "./run-docs.js";

testDocs(docsToTest(["examples"]));
