// `slipway run` handed to the home's running server (the client's side; the server's is
// src/cli/run-handoff/serve.ts). Loaded by bin/slipway.cjs before the CLI's bundle, so it requires
// only node:fs, node:path, node:os and node:net: when a server of this very build runs for this
// SLIPWAY_HOME, the server (which has the code loaded, warm, and the project's compile cached) runs
// the command for us, and this prints what it sends and exits with its code. Anything else resolves
// `undefined` and the CLI runs the command in this process, as before: no server, another build,
// server.json not this user's own, a connection refused, a server that declines (another home, a
// remote target, --bundle, an executor that does not attach, input it cannot parse or compile).
//
// What is sent: the arguments, the current folder, the resolved SLIPWAY_HOME, the build and the whole
// environment (the server compiles and runs with it, as this process would), over 127.0.0.1 only, to
// the process named in server.json after checking it is alive and ours to signal (the port is then
// its), with the admin token it holds (mode 0600, this user's own). Ctrl-C (SIGINT) and SIGTERM ask
// the server to cancel an attached run, as they cancel it in-process.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const PROTOCOL = 1;

/** Resolves the exit code once the server ran the command, or undefined: run it in this process. */
module.exports = function handOff(argv, build) {
  const info = serverInfo();
  if (!info || !build || info.build !== build) return Promise.resolve(undefined);
  const net = require("node:net");
  return new Promise((resolve) => {
    let settled = false;
    let accepted = false;
    let attached = false;
    let headers = true;
    let buffered = "";
    const socket = net.connect({ host: info.host, port: info.port });
    const cancel = () => socket.write('{"t":"cancel"}\n');
    const finish = (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(patience);
      process.off("SIGINT", cancel);
      process.off("SIGTERM", cancel);
      if (code === undefined) socket.destroy();
      else socket.end();
      resolve(code);
    };
    // A server that does not take the run within 10 s (hung, or stopping): run it here. It checks the
    // connection before it starts anything, so a run is never both handed over and run here.
    const patience = setTimeout(() => accepted || finish(undefined), 10_000);
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    socket.on("error", () => {});
    socket.on("close", () => {
      if (accepted && !settled) {
        process.stderr.write(`error: the Slipway server (pid ${info.pid}) ended before the run did; see it with: slipway runs\n`);
        finish(1);
      } else finish(undefined);
    });
    socket.on("data", (chunk) => {
      buffered += chunk;
      if (headers) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        // 101: the server takes the run; 401 (a token that is not the server's), anything else: run here.
        if (!buffered.startsWith("HTTP/1.1 101 ")) return finish(undefined);
        headers = false;
        buffered = buffered.slice(end + 4);
      }
      for (let nl = buffered.indexOf("\n"); nl >= 0 && !settled; nl = buffered.indexOf("\n")) {
        let f;
        try {
          f = JSON.parse(buffered.slice(0, nl));
        } catch {
          f = { t: "garbled" };
        }
        buffered = buffered.slice(nl + 1);
        if (f.t === "garbled") {
          if (!accepted) return finish(undefined);
          process.stderr.write(`error: the Slipway server (pid ${info.pid}) sent an unreadable answer; see the run with: slipway runs\n`);
          return finish(1);
        }
        if (f.t === "o") process.stdout.write(f.d);
        else if (f.t === "e") process.stderr.write(f.d);
        else if (f.t === "exit") finish(f.code);
        else if (f.t === "accepted") {
          accepted = true;
          // As in-process (src/cli/main.ts): a closed pipe (`slipway run … | head`) stops the output, not the command.
          for (const stream of [process.stdout, process.stderr]) {
            stream.on("error", (e) => {
              if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
            });
          }
          attached = f.attached;
          if (attached) {
            process.on("SIGINT", cancel);
            process.on("SIGTERM", cancel);
          }
        } else if (f.t === "fallback" && !accepted) finish(undefined);
      }
    });
    const request = JSON.stringify({ v: PROTOCOL, build, home: info.home, cwd: process.cwd(), argv, env: process.env, tty: !!process.stdout.isTTY });
    socket.write(
      `GET /admin/run-handoff HTTP/1.1\r\nhost: ${info.host}:${info.port}\r\nconnection: Upgrade\r\nupgrade: slipway-run\r\nx-slipway-admin: ${info.adminToken}\r\n\r\n${request}\n`,
    );
  });
};

/** This home's server.json when it is this user's own file and names a live server of ours on the loopback, else undefined. */
function serverInfo() {
  try {
    const env = process.env;
    const home = path.resolve(env.SLIPWAY_HOME ?? path.join(require("node:os").homedir(), ".slipway"));
    const fd = fs.openSync(path.join(home, "server.json"), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    let text;
    try {
      const st = fs.fstatSync(fd);
      const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
      if (!st.isFile() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) return undefined;
      text = fs.readFileSync(fd, "utf8");
    } finally {
      fs.closeSync(fd);
    }
    const info = JSON.parse(text);
    const url = /^http:\/\/(127\.0\.0\.1|\[::1\]):(\d+)$/.exec(info.url);
    if (!url || typeof info.adminToken !== "string" || !/^[A-Za-z0-9_-]+$/.test(info.adminToken) || !Number.isSafeInteger(info.pid) || info.pid <= 0) return undefined;
    // Alive, and ours to signal: a server of this user, which holds the port while it lives.
    process.kill(info.pid, 0);
    return { home, pid: info.pid, host: url[1] === "[::1]" ? "::1" : url[1], port: Number(url[2]), adminToken: info.adminToken, build: info.build };
  } catch {
    return undefined;
  }
}
