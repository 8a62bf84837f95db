// Typed errors with a stable code, a hint and an exit code. The CLI maps them to exit codes in one place
// (cli/common.ts); the HTTP server will map them to statuses the same way.

export type ExitCode = 0 | 1 | 2 | 3;

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One problem found in user input (config, flags). All of them are reported together. */
export interface Diagnostic {
  location?: SourceLocation;
  message: string;
  hint?: string;
}

export class SlipwayError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: ExitCode;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: { hint?: string; exitCode?: ExitCode; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "SlipwayError";
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details;
  }
}

/** Invalid input: config, flags, references. Exit code 2; nothing was touched. */
export class InvalidInputError extends SlipwayError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], code = "invalid_config") {
    const first = diagnostics[0];
    super(code, diagnostics.length === 1 && first ? first.message : `${diagnostics.length} problems found`, { exitCode: 2, hint: first?.hint });
    this.diagnostics = diagnostics;
  }
}

/** The operation was refused: a lock is held, protection, missing confirmation or approval. Exit code 3. */
export class RefusedError extends SlipwayError {
  constructor(code: string, message: string, options: { hint?: string; details?: Record<string, unknown> } = {}) {
    super(code, message, { ...options, exitCode: 3 });
  }
}

export function formatLocation(loc: SourceLocation | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.column}` : "";
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${formatLocation(d.location)}: ` : "";
  return printable(`${where}error: ${d.message}${d.hint ? `\n  hint: ${d.hint}` : ""}`);
}

/**
 * `text` safe to print on a terminal: control characters other than line feed and tab (ESC starts
 * terminal escape sequences; a name given on the command line may hold any) are shown as \u escapes.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
