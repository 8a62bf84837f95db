import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { normalizePackageName, parseWheelFilename, readPythonMetadata } from "./python-metadata.js";

function pkg(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "slipway-pymeta-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe("python package metadata", () => {
  it("reads [project] of pyproject.toml, ignoring other tables and comments", () => {
    const dir = pkg({
      "pyproject.toml": `[build-system]\nrequires = ["setuptools"]\nversion = "9.9"\n\n[project]  # the package\nname = "dqm"\nversion = '2.6.10'  # bumped by release\ndescription = "a \\"quoted\\" text"\n\n[tool.x]\nversion = "0"\n`,
    });
    try {
      assert.deepEqual(readPythonMetadata(dir), { source: "pyproject.toml", name: "dqm", version: "2.6.10" });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("falls back to setup.cfg [metadata], then setup.py literals; computed versions stay undefined", () => {
    const cfg = pkg({ "pyproject.toml": "[build-system]\nrequires = []\n", "setup.cfg": "[metadata]\nname = dq-tools\nversion = 1.4.0\nlong-description = file: README.md\n\n[options]\nversion = 0\n" });
    const py = pkg({ "setup.py": 'from setuptools import setup\nsetup(\n    name="legacy",\n    version="0.3.1",\n)\n' });
    const dynamic = pkg({ "pyproject.toml": '[project]\nname = "dyn"\ndynamic = ["version"]\n', "setup.cfg": "[metadata]\nversion = attr: dyn.__version__\n" });
    const none = pkg({ "README.md": "nothing" });
    try {
      assert.deepEqual(readPythonMetadata(cfg), { source: "setup.cfg", name: "dq-tools", version: "1.4.0" });
      assert.deepEqual(readPythonMetadata(py), { source: "setup.py", name: "legacy", version: "0.3.1" });
      assert.deepEqual(readPythonMetadata(dynamic), { source: "pyproject.toml", name: "dyn", version: undefined });
      assert.equal(readPythonMetadata(none).source, undefined);
    } finally {
      for (const d of [cfg, py, dynamic, none]) rmSync(d, { recursive: true });
    }
  });

  it("parses wheel file names and normalizes package names", () => {
    assert.deepEqual(parseWheelFilename("dqm-2.6.10-py3-none-any.whl"), { distribution: "dqm", version: "2.6.10" });
    assert.deepEqual(parseWheelFilename("dq_tools-1.0b1-1-cp311-cp311-linux_x86_64.whl"), { distribution: "dq_tools", version: "1.0b1" });
    assert.equal(parseWheelFilename("dqm-2.6.10.tar.gz"), undefined);
    assert.equal(normalizePackageName("DQ_Tools.Core"), "dq-tools-core");
  });
});
