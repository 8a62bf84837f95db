// Answers for requests Node's HTTP parser refuses before they reach the gateway (an over-long URL or
// headers, bytes that are not HTTP): a JSON body that says what is wrong with this request, in the
// gateway's error format, instead of Node's bare status line.
import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "REQUEST_HEADERS_TOO_LARGE", `the request's URL and headers together are limited to ${maxHeaderSize} bytes and this request's are larger; shorten the URL (endpoint names are at most 63 characters) or its headers`]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ERR_HTTP_HEADERS_TIMEOUT"
        ? [408, "REQUEST_TIMEOUT", "the request did not arrive in time"]
        : [400, "BAD_REQUEST", `not a valid HTTP request (${err.code ?? err.message})`];
  const body = JSON.stringify({ error_code: code, message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
