// The dashboard's sign-in session. `POST /session` with a token makes a NEW short-lived token for the
// same principal (through the identity store, so everything that authenticates tokens accepts it) and
// hands it over only as the `slipway_session` cookie: HttpOnly (page scripts never see it), SameSite=Strict
// (other sites' requests do not carry it), Secure behind https. `DELETE /session` revokes it.
// A request authenticated by that cookie that changes anything must also carry `X-Slipway-CSRF: 1` (a
// header a cross-site form or image cannot send) and, when the browser says where it comes from, come
// from this server's own origin; bearer-token requests (CLI, SDK) are unaffected.
import { SlipwayError } from "../../errors.js";
import { sha256 } from "../../util/hash.js";

export const SESSION_COOKIE = "slipway_session";
export const CSRF_HEADER = "x-slipway-csrf";
/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;

/** The value of one cookie from a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
  }
  return undefined;
}

/** Whether the request came over https (directly or through a TLS proxy that says so). */
export function overHttps(url: string, forwardedProto: string | undefined): boolean {
  return url.startsWith("https:") || (forwardedProto ?? "").split(",")[0]!.trim().toLowerCase() === "https";
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}${secure ? "; Secure" : ""}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? "; Secure" : ""}`;
}

/** The token's hash as the identity store keys it (to revoke a session by its cookie). */
export function sessionHash(token: string): string {
  return sha256(token);
}

export interface CsrfRequest {
  method: string;
  url: string;
  header(name: string): string | undefined;
}

/**
 * Refuses (403 csrf_refused) a cookie-authenticated change that lacks the CSRF header, or whose Origin
 * (when the browser sends one) is not this server's, or that the browser marks as cross-site.
 */
export function checkCsrf(req: CsrfRequest): void {
  if (req.method === "GET" || req.method === "HEAD") return;
  const refuse = (why: string) =>
    new SlipwayError("csrf_refused", `refused a change made with the dashboard's session cookie: ${why}`, {
      hint: `the dashboard sends \`X-Slipway-CSRF: 1\` from this server's own pages; programs use a bearer token (Authorization: Bearer swt_…) instead of the cookie`,
    });
  if (req.header(CSRF_HEADER) !== "1") throw refuse(`the ${CSRF_HEADER} header is missing`);
  const site = req.header("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") throw refuse(`the browser says it came from another site (Sec-Fetch-Site: ${site})`);
  const origin = req.header("origin");
  if (origin !== undefined && origin !== ownOrigin(req)) throw refuse(`it came from ${origin}, not from this server`);
}

/** This server's origin as the browser sees it: the scheme (https behind a TLS proxy that says so) and Host. */
export function ownOrigin(req: CsrfRequest): string {
  const url = new URL(req.url);
  const https = overHttps(req.url, req.header("x-forwarded-proto"));
  const host = req.header("x-forwarded-host")?.split(",")[0]!.trim() || req.header("host") || url.host;
  return `${https ? "https" : "http"}://${host}`;
}
