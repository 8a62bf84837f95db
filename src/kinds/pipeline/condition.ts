// A stage's `when:` condition: a small, safe expression over what earlier stages produced, the run's
// parameters and its trigger, for example
//
//   stages.train.registered == true
//   stages.evaluate.results.accuracy >= 0.9 && params.force != "yes"
//   trigger.kind == "git" || !(upstream.outcome == "failed")
//
// Parsed with jsep (a well-kept expression parser); only the node types below are accepted, and they
// are evaluated here by walking the tree: no eval, no function calls, no assignment, no prototype
// access (paths read own properties of plain JSON values only). Compile checks the names a condition
// reads (stage names, their fields, parameters), so a typo is an error with file:line before deploy.
import jsep from "jsep";

export type ConditionNode =
  | { type: "literal"; value: string | number | boolean | null }
  | { type: "path"; path: string[] }
  | { type: "not"; argument: ConditionNode }
  | { type: "binary"; operator: BinaryOperator; left: ConditionNode; right: ConditionNode };

const BINARY = ["==", "!=", "<", "<=", ">", ">=", "&&", "||"] as const;
type BinaryOperator = (typeof BINARY)[number];

export class ConditionSyntaxError extends Error {}

/** Parses a condition; throws ConditionSyntaxError saying what is wrong and where. */
export function parseCondition(text: string): ConditionNode {
  let ast: jsep.Expression;
  try {
    ast = jsep(text);
  } catch (e) {
    const err = e as Error & { index?: number; description?: string };
    throw new ConditionSyntaxError(`${err.description ?? err.message}${err.index !== undefined ? ` at character ${err.index + 1}` : ""}`);
  }
  return convert(ast);
}

function convert(node: jsep.Expression): ConditionNode {
  switch (node.type) {
    case "Literal": {
      const value = (node as jsep.Literal).value;
      if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return { type: "literal", value };
      throw new ConditionSyntaxError(`the literal ${(node as jsep.Literal).raw} is not allowed (use strings, numbers, true, false or null)`);
    }
    case "Identifier":
    case "MemberExpression":
      return { type: "path", path: pathOf(node) };
    case "UnaryExpression": {
      const u = node as jsep.UnaryExpression;
      if (u.operator !== "!") throw new ConditionSyntaxError(`the operator "${u.operator}" is not allowed (use !, ==, !=, <, <=, >, >=, && and ||)`);
      return { type: "not", argument: convert(u.argument) };
    }
    case "BinaryExpression": {
      const b = node as jsep.BinaryExpression;
      const operator = b.operator === "===" ? "==" : b.operator === "!==" ? "!=" : b.operator;
      if (!(BINARY as readonly string[]).includes(operator)) throw new ConditionSyntaxError(`the operator "${b.operator}" is not allowed (use !, ==, !=, <, <=, >, >=, && and ||)`);
      return { type: "binary", operator: operator as BinaryOperator, left: convert(b.left), right: convert(b.right) };
    }
    case "Compound":
      throw new ConditionSyntaxError("a condition is one expression (join parts with && or ||)");
    case "CallExpression":
      throw new ConditionSyntaxError("function calls are not allowed in conditions");
    default:
      throw new ConditionSyntaxError(`${node.type.replace(/Expression$/, "").toLowerCase() || "this"} expressions are not allowed in conditions`);
  }
}

/** `a.b["c-d"].e` -> ["a", "b", "c-d", "e"]; only names and string or number subscripts. */
function pathOf(node: jsep.Expression): string[] {
  if (node.type === "Identifier") return [(node as jsep.Identifier).name];
  if (node.type !== "MemberExpression") throw new ConditionSyntaxError("a path must start with a name (stages, params, trigger or upstream)");
  const m = node as jsep.MemberExpression;
  let key: string;
  if (!m.computed && m.property.type === "Identifier") key = (m.property as jsep.Identifier).name;
  else if (m.computed && m.property.type === "Literal" && (typeof (m.property as jsep.Literal).value === "string" || typeof (m.property as jsep.Literal).value === "number")) key = String((m.property as jsep.Literal).value);
  else throw new ConditionSyntaxError('a subscript must be a quoted name or a number, e.g. stages["deploy-dev"].status');
  return [...pathOf(m.object), key];
}

/** Every path a condition reads. */
export function conditionPaths(node: ConditionNode): string[][] {
  switch (node.type) {
    case "literal":
      return [];
    case "path":
      return [node.path];
    case "not":
      return conditionPaths(node.argument);
    case "binary":
      return [...conditionPaths(node.left), ...conditionPaths(node.right)];
  }
}

/** JSON-like values a condition reads from. */
export type ConditionScope = Record<string, unknown>;

/** Evaluates a parsed condition; a path that leads nowhere is null. The result is true or false. */
export function evaluateCondition(node: ConditionNode, scope: ConditionScope): boolean {
  return truthy(value(node, scope));
}

function value(node: ConditionNode, scope: ConditionScope): unknown {
  switch (node.type) {
    case "literal":
      return node.value;
    case "path":
      return read(scope, node.path);
    case "not":
      return !truthy(value(node.argument, scope));
    case "binary": {
      if (node.operator === "&&") return truthy(value(node.left, scope)) && truthy(value(node.right, scope));
      if (node.operator === "||") return truthy(value(node.left, scope)) || truthy(value(node.right, scope));
      const l = value(node.left, scope);
      const r = value(node.right, scope);
      switch (node.operator) {
        case "==":
          return equal(l, r);
        case "!=":
          return !equal(l, r);
        default:
          // Ordering compares numbers with numbers and strings with strings; anything else is false.
          if (!((typeof l === "number" && typeof r === "number") || (typeof l === "string" && typeof r === "string"))) return false;
          return node.operator === "<" ? l < r : node.operator === "<=" ? l <= r : node.operator === ">" ? l > r : l >= r;
      }
    }
  }
}

/** Strict equality; a path that leads nowhere equals null. */
function equal(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null);
}

function truthy(v: unknown): boolean {
  return v !== null && v !== undefined && v !== false && v !== 0 && v !== "";
}

/** Reads own properties of plain objects and arrays only (never a prototype's). */
function read(scope: unknown, path: readonly string[]): unknown {
  let cur: unknown = scope;
  for (const key of path) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, key)) return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur ?? null;
}
