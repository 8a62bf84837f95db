// A project on a server: each command scans the local folder (a content-addressed bundle, hashed through
// a capture index so unchanged files are not read), asks the server to run the command on that source,
// and, when the server does not have it, uploads what it lacks and asks again. Progress events and log
// lines arrive as they come (newline-delimited JSON); the answer is the command's document.
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { scanSource } from "../bundles/index.js";
import { PROJECT_FILE } from "../config/load.js";
import { parseYamlWithPositions, readProjectFile } from "../config/yaml-source.js";
import { InvalidInputError } from "../errors.js";
import type { ProjectAnswer, ProjectArgs, ProjectCommand } from "../server/project-documents.js";
import type { ErrorJson } from "../views/error.js";
import { isProgressEvent, type ProgressEvent } from "../views/progress.js";
import { remoteError, type Query, type RemoteClient } from "./api-client.js";
import { PROJECT_ROUTES, type RouteCall } from "./project-routes.js";
import { uploadSource, type UploadResult } from "./upload.js";

export interface RemoteProjectOptions {
  /** The local project folder (holding slipway.yaml): what is uploaded. */
  dir: string;
  target?: string;
  /** --var NAME=value */
  vars?: Record<string, string>;
  /** SLIPWAY_VAR_<NAME> values of this process (the server uses these, not its own). */
  envVars?: Record<string, string>;
  /** Where the capture indexes of uploaded folders live (SLIPWAY_HOME/cache/uploads). */
  cacheDir: string;
}

export interface CommandHooks {
  /** Each progress event (plans, actions, hook output, warnings), as it comes. */
  onEvent?: (event: ProgressEvent) => void;
  /** The last upload (none when the server had the source). */
  onUpload?: (upload: UploadResult) => void;
}

export class RemoteProject {
  constructor(
    readonly client: RemoteClient,
    private readonly options: RemoteProjectOptions,
  ) {}

  /** Runs a project command on the server; its error (no document) is thrown as the embedded command throws it. */
  async command<C extends ProjectCommand>(command: C, args: ProjectArgs[C], hooks: CommandHooks = {}): Promise<ProjectAnswer<C>> {
    const dir = resolve(this.options.dir);
    const name = projectNameOf(dir);
    const scan = await scanSource(dir, this.indexFile(dir));
    const route = (PROJECT_ROUTES[command] as (a: ProjectArgs[C]) => RouteCall)(args);
    const path = `/projects/${encodeURIComponent(name)}${route.path}`;
    const common = {
      target: this.options.target,
      source: scan.hash,
      shown_dir: relative(process.cwd(), dir) || ".",
    };
    const vars = this.options.vars ?? {};
    const envVars = this.options.envVars ?? {};
    const onLine = (args as { onLine?: (task: string, line: string) => void }).onLine;
    for (let attempt = 0; ; attempt++) {
      let answer: { document?: Record<string, unknown>; failure?: ErrorJson } = {};
      const take = (line: Record<string, unknown>) => {
        if (isProgressEvent(line)) hooks.onEvent?.(line);
        else if ("document" in line) answer = { document: line.document as Record<string, unknown> };
        else if ("failure" in line) answer = { failure: (line.failure as { error: ErrorJson }).error };
        else if (typeof line.task === "string" && typeof line.line === "string") onLine?.(line.task, line.line);
      };
      if (route.method === "GET") {
        const query: Query = { ...common, var: pairs(vars), env_var: pairs(envVars) };
        for (const [k, v] of Object.entries(route.input ?? {})) query[k] = v as Query[string];
        await this.client.stream("GET", path, { query }, take);
      } else {
        await this.client.stream(route.method, path, { body: { ...common, vars, env_vars: envVars, ...route.input } }, take);
      }
      if (answer.failure) {
        // The server lacks this source: upload what it lacks, once, and ask again.
        if (answer.failure.code === "unknown_source" && attempt === 0) {
          const upload = await uploadSource(this.client, scan);
          hooks.onUpload?.(upload);
          continue;
        }
        throw remoteError(answer.failure);
      }
      if (!answer.document) throw remoteError({ code: "server_unreachable", message: `${this.client.url} ended the answer without a document`, hint: "see the server's log" });
      const { ok, error, ...fields } = answer.document;
      if (ok === false && Object.keys(fields).length === 0) throw remoteError(error as ErrorJson);
      return { fields: fields as ProjectAnswer<C>["fields"], error: ok === false ? (error as ErrorJson) : undefined };
    }
  }

  /** One capture index per local folder. */
  private indexFile(dir: string): string {
    let real = dir;
    try {
      real = realpathSync(dir);
    } catch {
      /* projectNameOf has said what is wrong */
    }
    return join(this.options.cacheDir, `${createHash("sha256").update(real).digest("hex").slice(0, 32)}.index`);
  }
}

function pairs(record: Record<string, string>): string[] {
  return Object.entries(record).map(([k, v]) => `${k}=${v}`);
}

/**
 * The project's name from the local slipway.yaml (the API's paths name it), read as the embedded
 * commands read it: the same errors for a missing or unreadable file.
 */
export function projectNameOf(dir: string): string {
  const file = join(dir, PROJECT_FILE);
  if (!existsSync(file)) {
    throw new InvalidInputError([{ message: `no ${PROJECT_FILE} in ${dir}`, hint: "run slipway in a project folder, or pass --project DIR" }], "project_not_found");
  }
  const displayFile = relative(process.cwd(), file) || file;
  const read = readProjectFile(file, displayFile);
  if ("problem" in read) throw new InvalidInputError([read.problem]);
  const raw = parseYamlWithPositions(read.text, displayFile);
  if (raw.diagnostics.length) throw new InvalidInputError(raw.diagnostics);
  const name = (raw.value as { project?: unknown } | null)?.project;
  if (typeof name !== "string" || !/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new InvalidInputError([{ location: raw.sourceMap.locate(["project"]), message: "slipway.yaml needs a `project:` name of lowercase letters, digits, \"-\" and \"_\" to be sent to a server", hint: "project: my-project" }], "project_not_found");
  }
  return name;
}
