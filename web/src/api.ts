// The dashboard's one door to the server: same-origin fetches that carry the HttpOnly session cookie
// (the page never sees the token), the CSRF header on every change, and a redirect to /signin when the
// session is gone. Answers are the CLI's --json documents (docs/api.md).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | null,
  ) {
    super(message);
  }
}

export const CSRF = { "x-slipway-csrf": "1" };

/** Set once the server said the session is gone: no more calls (each would count as a failed authentication). */
let signedOut = false;

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  if (signedOut && !path.startsWith("/session")) throw new ApiError(401, "unauthenticated", "signed out", null);
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") Object.assign(headers, CSRF);
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`/api/v1${path}`, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = { message: text };
  }
  if (res.status === 401 && !path.startsWith("/session")) {
    signedOut = true;
    toSignIn();
    throw new ApiError(401, "unauthenticated", "signed out", null);
  }
  if (!res.ok || doc.ok === false) throw new ApiError(res.status, doc.error_code ?? "error", doc.message ?? res.statusText, doc.hint ?? null);
  return doc as T;
}

export const get = <T = any>(path: string) => api<T>("GET", path);

export function toSignIn(): void {
  if (location.pathname === "/signin") return;
  location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** A `next` that stays on this site: a relative path starting with one "/" (no "//host", no "/\\host"). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\") || /[\u0000-\u001f]/.test(next)) return "/";
  return next;
}

/** Query string from defined values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}
