// Terminal output: colors when writing to a terminal, plain text otherwise, secrets always masked.
import { styleText } from "node:util";
import { redact, redactValue } from "../util/redact.js";

type Style = Parameters<typeof styleText>[0];

export class Output {
  secrets: string[] = [];
  constructor(
    readonly json: boolean,
    private readonly color: boolean,
  ) {}

  style(style: Style, text: string): string {
    return this.color ? styleText(style, text) : text;
  }

  /** Human-readable line to stdout (suppressed in --json mode, where it goes to stderr). */
  line(text = ""): void {
    const out = redact(text, this.secrets) + "\n";
    if (this.json) process.stderr.write(out);
    else process.stdout.write(out);
  }

  /** Diagnostics and warnings: always stderr. */
  err(text: string): void {
    process.stderr.write(redact(text, this.secrets) + "\n");
  }

  /** The --json document: stdout, one JSON value. */
  document(value: unknown): void {
    process.stdout.write(JSON.stringify(redactValue(value, this.secrets), null, 2) + "\n");
  }
}
