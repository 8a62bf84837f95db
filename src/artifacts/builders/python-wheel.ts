// python_wheel: `python -m pip wheel --no-deps --no-build-isolation --no-index` in a clean copy of the
// package folder, offline, with fixed timestamps (the same sources give the same wheel, byte for byte).
// The version is the package's own (pyproject.toml, setup.cfg or setup.py), as the built wheel names it.
import { cp, readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { InvalidInputError, SlipwayError } from "../../errors.js";
import { parseWheelFilename, PYTHON_METADATA_FILES, readPythonMetadata } from "../python-metadata.js";
import { runTool, SOURCE_DATE_EPOCH, type ArtifactBuilder } from "./builder.js";

/** Left out of the copy that is built: earlier build output would leak stale files into the wheel. */
const SKIP = new Set([".git", "build", "dist", "__pycache__", ".venv", "venv", ".tox", ".nox", ".pytest_cache", ".mypy_cache", "node_modules"]);

export const pythonWheelBuilder: ArtifactBuilder = {
  type: "python_wheel",
  async build(ctx) {
    const meta = readPythonMetadata(ctx.dir);
    if (!meta.source) {
      throw new InvalidInputError(
        [{ message: `artifact ${ctx.name}: ${ctx.spec.path} has no ${PYTHON_METADATA_FILES.join(", ")}`, hint: "a python_wheel artifact's folder is a Python package with its own metadata (pyproject.toml with a [project] table, for example)" }],
        "invalid_package",
      );
    }
    const python = ctx.spec.python ?? "python3";
    const src = join(ctx.outDir, "..", "src");
    await cp(ctx.dir, src, { recursive: true, filter: (from) => !SKIP.has(basename(from)) && !basename(from).endsWith(".egg-info") });
    await runTool(ctx, python, ["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir", "--disable-pip-version-check", "-w", ctx.outDir, "."], {
      cwd: src,
      env: { ...ctx.env, SOURCE_DATE_EPOCH, PIP_NO_INPUT: "1", PYTHONDONTWRITEBYTECODE: "1" },
      hint: `the wheel is built offline with the package's own build backend, which ${python} must already have (setuptools and wheel; on Debian: apt-get install python3-wheel), or set \`python:\` on the artifact to an interpreter that has them`,
      missingHint: "set `python:` on the artifact to an interpreter that exists (for example /usr/bin/python3)",
    });
    const wheels = (await readdir(ctx.outDir)).filter((f) => f.endsWith(".whl"));
    if (wheels.length !== 1) throw new SlipwayError("build_failed", `artifact ${ctx.name}: expected one wheel from pip, found ${wheels.length} (${wheels.join(", ") || "none"})`);
    const filename = wheels[0]!;
    const parsed = parseWheelFilename(filename);
    if (!parsed) throw new SlipwayError("build_failed", `artifact ${ctx.name}: "${filename}" is not a wheel file name`);
    return { file: join(ctx.outDir, filename), version: parsed.version, package: parsed.distribution };
  },
};
