// The HTTP client of a Slipway server's API (/api/v1, src/server/api): plain calls answering with the
// envelope, raw uploads, and newline-delimited JSON streams (progress events, then the document). The
// remote CLI and the SDK's remote mode use it; nothing here knows about commander or the terminal.
import { exitCodeOf, InvalidInputError, RefusedError, SlipwayError, type CodeWithExit, type ErrorCode } from "../errors.js";
import type { ErrorJson } from "../views/error.js";

export type Query = Record<string, string | number | boolean | string[] | undefined>;

/**
 * An API answer that is an error, as the error the embedded command would have thrown: invalid input
 * with its diagnostics, a refusal (exit 3) as a RefusedError, anything else as a SlipwayError, with the
 * code's detail fields.
 */
export function remoteError(e: ErrorJson): SlipwayError {
  const { code, message, hint, diagnostics, ...rest } = e;
  const details = Object.keys(rest).length ? rest : undefined;
  if (diagnostics?.length) {
    const err = new InvalidInputError(
      diagnostics.map((d) => ({ message: d.message, hint: d.hint ?? undefined, location: d.file !== null && d.line !== null && d.column !== null ? { file: d.file, line: d.line, column: d.column } : undefined })),
      code as never,
    );
    if (details) Object.assign(err, { details });
    return err;
  }
  if (exitCodeOf(code) === 3) return new RefusedError(code as CodeWithExit<3>, message, { hint: hint ?? undefined, details });
  return new SlipwayError(code as ErrorCode, message, { hint: hint ?? undefined, details });
}

/** A server's URL as the client uses it: its origin and path without a trailing slash; refused unless http(s). */
export function normalizeServer(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidInputError([{ message: `"${url}" is not a URL`, hint: "for example http://127.0.0.1:7878" }], "invalid_flag");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new InvalidInputError([{ message: `"${url}" is not an http(s) URL`, hint: "for example https://slipway.example.com" }], "invalid_flag");
  return u.origin + u.pathname.replace(/\/+$/, "");
}

export class RemoteClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  private async request(method: string, path: string, options: { body?: unknown; raw?: Buffer; query?: Query; accept?: string }): Promise<Response> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) qs.append(k, String(x));
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.raw !== undefined) headers["content-type"] = "application/octet-stream";
    if (options.accept) headers.accept = options.accept;
    try {
      return await fetch(`${this.url}/api/v1${path}${qs.size ? `?${qs}` : ""}`, {
        method,
        headers,
        body: options.raw !== undefined ? options.raw : options.body !== undefined ? JSON.stringify(options.body) : undefined,
      });
    } catch (e) {
      throw new SlipwayError("server_unreachable", `cannot reach ${this.url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, { hint: "is the server running (slipway server)? check --server / SLIPWAY_SERVER" });
    }
  }

  private notApi(res: Response): SlipwayError {
    return new SlipwayError("server_unreachable", `${this.url} answered ${res.status} with something that is not Slipway's API`, { hint: "check the URL (it is the server's address, without /api/v1)" });
  }

  /** Calls a route; answers with the envelope (ok, error, fields), without the API's leading error keys. */
  async call(method: string, path: string, options: { body?: unknown; raw?: Buffer; query?: Query } = {}): Promise<{ status: number; doc: Record<string, unknown> }> {
    const res = await this.request(method, path, options);
    let body: Record<string, unknown>;
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      throw this.notApi(res);
    }
    return { status: res.status, doc: envelopeOf(body) };
  }

  /** Calls a route and throws its error, or answers with its fields (for the small source documents). */
  async fields(method: string, path: string, options: { body?: unknown; raw?: Buffer; query?: Query } = {}): Promise<Record<string, unknown>> {
    const { doc } = await this.call(method, path, options);
    if (doc.ok === false) throw remoteError(doc.error as ErrorJson);
    return doc;
  }

  /**
   * Calls a route asking for newline-delimited JSON (progress, log lines) and hands each object to
   * `onLine` as it arrives. An answer that is not a stream (an error before anything started) is
   * handed over as one `{ failure }` line.
   */
  async stream(method: string, path: string, options: { body?: unknown; query?: Query }, onLine: (line: Record<string, unknown>) => void): Promise<void> {
    const res = await this.request(method, path, { ...options, accept: "application/x-ndjson" });
    if (!(res.headers.get("content-type") ?? "").includes("application/x-ndjson") || !res.body) {
      let body: Record<string, unknown>;
      try {
        body = (await res.json()) as Record<string, unknown>;
      } catch {
        throw this.notApi(res);
      }
      onLine(body.ok === false ? { failure: body } : { document: body });
      return;
    }
    const decoder = new TextDecoder();
    let pending = "";
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (text.trim()) onLine(JSON.parse(text) as Record<string, unknown>);
      }
      if (done) break;
    }
    if (pending.trim()) onLine(JSON.parse(pending) as Record<string, unknown>);
  }
}

/** The envelope of an API body: an error answer carries `error_code`, `message` and `hint` in front. */
export function envelopeOf(body: Record<string, unknown>): Record<string, unknown> {
  if (body.ok !== false || !("error_code" in body)) return body;
  const { error_code: _c, message: _m, hint: _h, ...doc } = body;
  return doc;
}
