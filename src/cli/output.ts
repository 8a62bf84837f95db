// Terminal output: colors when writing to a terminal, plain text otherwise, secrets always masked.
import { styleText } from "node:util";
import { redact, redactValue } from "../util/redact.js";

type Style = Parameters<typeof styleText>[0];

// Text for a stdout that is not a terminal (a pipe, a file) is collected and written in pieces of
// 64 KiB: a first deploy of 10,000 resources prints ~20,000 lines, and one write() each cost ~4x the
// CPU. It goes out at the next turn of the event loop, before anything is written to stderr (so the
// two streams interleave as before when they are merged), and when the process exits. A terminal
// gets every line as it is printed.
let pending = "";
let scheduled = false;
let exitHook = false;
const FLUSH_AT = 64 * 1024;

/** Writes what `writeStdout` collected. */
export function flushStdout(): void {
  if (!pending) return;
  const text = pending;
  pending = "";
  process.stdout.write(text);
}

/** Writes to stdout through the collected text (see above), keeping the order of everything printed. */
export function writeStdout(text: string): void {
  if (process.stdout.isTTY) {
    flushStdout();
    process.stdout.write(text);
    return;
  }
  pending += text;
  if (pending.length >= FLUSH_AT) flushStdout();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flushStdout();
    });
  }
  if (!exitHook) {
    exitHook = true;
    // Writes to a pipe or a file are synchronous, so they still land from the exit event.
    process.on("exit", flushStdout);
  }
}

function writeStderr(text: string): void {
  flushStdout();
  process.stderr.write(text);
}

/** Where an Output writes instead of this process's stdout and stderr (a run handed to the server writes to its client). */
export interface OutputSink {
  stdout(text: string): void;
  stderr(text: string): void;
}

export class Output {
  secrets: string[] = [];
  constructor(
    readonly json: boolean,
    private readonly color: boolean,
    private readonly sink?: OutputSink,
  ) {}

  /** Where this output writes when it is not this process's stdout and stderr. */
  sinkOf(): OutputSink | undefined {
    return this.sink;
  }

  style(style: Style, text: string): string {
    return this.color ? styleText(style, text) : text;
  }

  /** Human-readable line to stdout (suppressed in --json mode, where it goes to stderr). */
  line(text = ""): void {
    const out = redact(text, this.secrets) + "\n";
    if (this.sink) this.sink[this.json ? "stderr" : "stdout"](out);
    else if (this.json) writeStderr(out);
    else writeStdout(out);
  }

  /** Diagnostics and warnings: always stderr. */
  err(text: string): void {
    const out = redact(text, this.secrets) + "\n";
    if (this.sink) this.sink.stderr(out);
    else writeStderr(out);
  }

  /** The --json document: stdout, one JSON value. */
  document(value: unknown): void {
    const out = JSON.stringify(redactValue(value, this.secrets), null, 2) + "\n";
    if (this.sink) this.sink.stdout(out);
    else writeStdout(out);
  }
}
