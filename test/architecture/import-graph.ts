import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

// The repository's TypeScript import graph, read with the TypeScript compiler's own parser (a dev
// dependency already): static imports and re-exports, `import type`, dynamic `import()` and
// `import("…")` types, with each edge marked runtime or type-only. Only relative specifiers are
// edges; packages and node: builtins are not part of the graph.

export const repoRoot = path.resolve(import.meta.dirname, "../..");

const skipped = new Set(["node_modules", "build", "var", ".git"]);

export interface ImportEdge {
  from: string;
  to: string;
  /** Erased at compile time: `import type`, `import { type X }` only, `import("…").X` in a type. */
  typeOnly: boolean;
  dynamic: boolean;
}

function listTsFiles(root: string, dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return skipped.has(entry.name) ? [] : listTsFiles(root, relative);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [relative] : [];
  });
}

function importsOf(root: string, file: string): Omit<ImportEdge, "from">[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { specifier: string; typeOnly: boolean; dynamic: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allNamedTypeOnly =
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((element) => element.isTypeOnly) &&
        clause?.name === undefined;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || allNamedTypeOnly);
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly, dynamic: false });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false, dynamic: true });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found
    .filter(({ specifier }) => specifier.startsWith("."))
    .map(({ specifier, typeOnly, dynamic }) => ({
      to: path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)),
      typeOnly,
      dynamic,
    }));
}

export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
}

/** The graph of the checkout at `root` (default: this one). */
export function readImportGraph(root = repoRoot): ImportGraph {
  const files = listTsFiles(root, "").sort();
  const edges = files.flatMap((from) => importsOf(root, from).map((edge) => ({ from, ...edge })));
  return { files, edges };
}

/** Strongly connected components with more than one file, or a file importing itself. */
export function cycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of graph.edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const connect = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.push(member);
      if (member === file) break;
    }
    const selfLoop = (next.get(file) ?? []).includes(file);
    if (component.length > 1 || selfLoop) found.push(component.sort());
  };
  for (const file of graph.files) if (!index.has(file)) connect(file);
  return found;
}

/** Every file `entry` loads at run time (static and dynamic imports; type-only imports are erased). */
export function runtimeClosure(graph: ImportGraph, entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const edge of graph.edges) {
      if (edge.from !== file || edge.typeOnly || seen.has(edge.to)) continue;
      seen.add(edge.to);
      queue.push(edge.to);
    }
  }
  return seen;
}
