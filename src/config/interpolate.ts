// ${…} interpolation: ${var.NAME}, ${target.name}, ${project.name}, ${module.name}, ${user}, ${env.NAME}.
// "$${" writes a literal "${".
import type { Diagnostic, SourceLocation } from "../errors.js";
import { didYouMean } from "../util/suggest.js";

export interface InterpolationScope {
  project: string;
  target: string;
  user: string;
  module?: string;
  /** Resolves a variable by name; undefined when it does not exist. */
  variable: (name: string) => string | undefined;
  variableNames: () => Iterable<string>;
  env: Record<string, string | undefined>;
}

// "$${", or "${" with what follows up to "}" (group 1) and the "}" itself (group 2, absent when unclosed).
const PATTERN = /\$\$\{|\$\{([^}]*)(\})?/g;

export function hasInterpolation(text: string): boolean {
  return text.includes("${");
}

/** Replaces every ${…} in `text`; problems are appended to `diagnostics` and leave the reference in place. */
export function interpolate(text: string, scope: InterpolationScope, location: SourceLocation | undefined, diagnostics: Diagnostic[]): string {
  if (!text.includes("${")) return text;
  return text.replace(PATTERN, (match, expression: string | undefined, close: string | undefined) => {
    if (expression === undefined) return "${";
    if (close === undefined) {
      diagnostics.push({ location, message: `unclosed "\${" in "${text.length > 80 ? `${text.slice(0, 77)}...` : text}"`, hint: 'close the reference with "}", or write "$${" for a literal "${"' });
      return match;
    }
    const resolved = resolveExpression(expression.trim(), scope);
    if (typeof resolved === "string") return resolved;
    diagnostics.push({ location, message: resolved.message, hint: resolved.hint });
    return match;
  });
}

function resolveExpression(expr: string, scope: InterpolationScope): string | { message: string; hint?: string } {
  if (expr === "user") return scope.user;
  if (expr === "target.name") return scope.target;
  if (expr === "project.name") return scope.project;
  if (expr === "module.name") {
    return scope.module ?? { message: "${module.name} is only defined inside a module.yaml", hint: "use it in a module file, or write the module name" };
  }
  if (expr.startsWith("var.")) {
    const name = expr.slice(4);
    const value = scope.variable(name);
    if (value !== undefined) return value;
    const suggestion = didYouMean(name, scope.variableNames());
    return {
      message: `unknown variable "${name}" in \${${expr}}`,
      hint: suggestion ?? `declare it under \`variables:\` in slipway.yaml`,
    };
  }
  if (expr.startsWith("env.")) {
    const name = expr.slice(4);
    const value = scope.env[name];
    if (value !== undefined) return value;
    return { message: `environment variable ${name} is not set (used as \${${expr}})`, hint: `export ${name}=… before running slipway` };
  }
  const known = ["user", "target.name", "project.name", "module.name", "var.NAME", "env.NAME"];
  return {
    message: `unknown reference \${${expr}}`,
    hint: didYouMean(expr, known) ?? `references are ${known.map((k) => "${" + k + "}").join(", ")}`,
  };
}
