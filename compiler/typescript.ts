/**
 * TypeScript's compiler API, for every compiler phase: `import ts from
 * '<relative>/typescript.ts'` instead of `from 'typescript'`.
 *
 * The package is one 9 MB CommonJS file. Imported from an ES module, Node
 * first scans all of it for named exports (cjs-module-lexer), about 300 ms of
 * every build before the module even compiles; loaded with `require` it is
 * not scanned. The value is TypeScript's namespace object; the types it
 * declares are re-exported below under the same name, so `ts.Node` and
 * `ts.SyntaxKind.Identifier` read as they do with the package import. A type
 * not listed yet is added with one line (the checker names it).
 */
import { createRequire } from 'node:module';
import type * as TS from 'typescript';

const ts = createRequire(import.meta.url)('typescript') as typeof TS;

// A type-only namespace merges with the value of the same name.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace ts {
  export type ArrowFunction = TS.ArrowFunction;
  export type BigIntLiteralType = TS.BigIntLiteralType;
  export type BindingName = TS.BindingName;
  export type CallExpression = TS.CallExpression;
  export type CompilerHost = TS.CompilerHost;
  export type CompilerOptions = TS.CompilerOptions;
  export type ConciseBody = TS.ConciseBody;
  export type Declaration = TS.Declaration;
  export type Diagnostic = TS.Diagnostic;
  export type DiagnosticCategory = TS.DiagnosticCategory;
  export type ElementFlags = TS.ElementFlags;
  export type Expression = TS.Expression;
  export type FunctionDeclaration = TS.FunctionDeclaration;
  export type FunctionExpression = TS.FunctionExpression;
  export type FunctionLikeDeclaration = TS.FunctionLikeDeclaration;
  export type Identifier = TS.Identifier;
  export type IndexKind = TS.IndexKind;
  export type MethodDeclaration = TS.MethodDeclaration;
  export type ModifierFlags = TS.ModifierFlags;
  export type ModuleKind = TS.ModuleKind;
  export type ModuleResolutionKind = TS.ModuleResolutionKind;
  export type Node = TS.Node;
  export type NodeFlags = TS.NodeFlags;
  export type NumberLiteralType = TS.NumberLiteralType;
  export type ObjectLiteralExpression = TS.ObjectLiteralExpression;
  export type ParameterDeclaration = TS.ParameterDeclaration;
  export type Program = TS.Program;
  export type PropertyAccessExpression = TS.PropertyAccessExpression;
  export type ScriptTarget = TS.ScriptTarget;
  export type SignatureDeclaration = TS.SignatureDeclaration;
  export type SourceFile = TS.SourceFile;
  export type StringLiteralType = TS.StringLiteralType;
  export type Symbol = TS.Symbol;
  export type SymbolFlags = TS.SymbolFlags;
  export type SyntaxKind = TS.SyntaxKind;
  export type TupleType = TS.TupleType;
  export type Type = TS.Type;
  export type TypeChecker = TS.TypeChecker;
  export type TypeFlags = TS.TypeFlags;
  export type TypeFormatFlags = TS.TypeFormatFlags;
  export type TypeReference = TS.TypeReference;
  export type UnionType = TS.UnionType;
}

export default ts;
