// An app's log: every line its replicas print (stdout and stderr) and what the supervisor says about
// them, with secrets masked, appended to SLIPWAY_HOME/logs/apps/<name>.log. The file is bounded: past
// MAX_LOG_BYTES it moves to <name>.log.1 (the one before goes) and a new one starts. The last lines
// are kept in memory too, for `apps list` and the dashboard. `read` serves `apps logs NAME -f` by
// byte offset: a client asks again from the offset it was given.
import { appendFileSync, existsSync, mkdirSync, openSync, readSync, closeSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { redact } from "../../util/redact.js";

export const MAX_LOG_BYTES = 8 * 1024 * 1024;
const RECENT_LINES = 50;
/** A read returns at most this much (a follower asks again). */
const MAX_READ_BYTES = 256 * 1024;

export class AppLog {
  private readonly recentLines: string[] = [];
  private size: number;
  private secrets: string[] = [];

  constructor(
    readonly file: string,
    private readonly now: () => number,
    private readonly maxBytes = MAX_LOG_BYTES,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.size = existsSync(file) ? statSync(file).size : 0;
  }

  /** Values masked in every line from now on (secret env values, the app's token). */
  mask(values: readonly string[]): void {
    this.secrets = [...new Set([...this.secrets, ...values.filter((v) => v.length >= 4)])];
  }

  write(source: string, line: string): void {
    const text = `${new Date(this.now()).toISOString()} [${source}] ${redact(line, this.secrets)}`;
    this.recentLines.push(text);
    if (this.recentLines.length > RECENT_LINES) this.recentLines.shift();
    const data = `${text}\n`;
    try {
      if (this.size + Buffer.byteLength(data) > this.maxBytes && this.size > 0) {
        renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      appendFileSync(this.file, data, { mode: 0o600 });
      this.size += Buffer.byteLength(data);
    } catch {
      /* a full disk must not take the app down; the lines stay in memory */
    }
  }

  recent(n = 20): string[] {
    return this.recentLines.slice(-n);
  }

  /**
   * Lines from byte `offset` (undefined: the last `tail` lines), and the offset to ask from next. An
   * offset past the end (the file was rotated) starts again at 0.
   */
  read(offset: number | undefined, tail = 100): { lines: string[]; offset: number } {
    if (!existsSync(this.file)) return { lines: [], offset: 0 };
    const size = statSync(this.file).size;
    let from = offset ?? Math.max(0, size - MAX_READ_BYTES);
    if (from > size) from = 0;
    const length = Math.min(MAX_READ_BYTES, size - from);
    if (length <= 0) return { lines: [], offset: from };
    const buf = Buffer.alloc(length);
    const fd = openSync(this.file, "r");
    try {
      readSync(fd, buf, 0, length, from);
    } finally {
      closeSync(fd);
    }
    let text = buf.toString("utf8");
    // Only whole lines: the rest is read next time.
    const end = text.lastIndexOf("\n");
    if (end < 0) return { lines: [], offset: from };
    text = text.slice(0, end);
    let lines = text.split("\n");
    if (offset === undefined) {
      if (from > 0) lines = lines.slice(1); // the first line may be cut
      lines = lines.slice(-tail);
    }
    return { lines, offset: from + Buffer.byteLength(text) + 1 };
  }

  remove(): void {
    rmSync(this.file, { force: true });
    rmSync(`${this.file}.1`, { force: true });
  }
}
