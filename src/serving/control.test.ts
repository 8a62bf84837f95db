// What the background server that deploy starts inherits from the command that started it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serverEnvironment } from "./control.js";

describe("serverEnvironment", () => {
  test("keeps the system's settings and the certificates to trust, drops credentials and everything else", () => {
    const env = serverEnvironment({
      PATH: "/usr/bin",
      HOME: "/home/a",
      LANG: "C.UTF-8",
      NODE_EXTRA_CA_CERTS: "/etc/ssl/private-ca.pem",
      SSL_CERT_FILE: "/etc/ssl/cert.pem",
      SSL_CERT_DIR: "/etc/ssl/certs",
      SLIPWAY_HOME: "/home/a/.slipway",
      AWS_SECRET_ACCESS_KEY: "secret",
      SLIPWAY_TOKEN: "token",
      GITHUB_TOKEN: "token",
      NODE_OPTIONS: "--require /tmp/x.js",
    });
    assert.deepEqual(Object.keys(env).sort(), ["HOME", "LANG", "NODE_EXTRA_CA_CERTS", "PATH", "SLIPWAY_HOME", "SSL_CERT_DIR", "SSL_CERT_FILE"]);
  });
});
