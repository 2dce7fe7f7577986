/**
 * Analysis of one user function: what it captures from outside (and whether
 * that is mutable), non-deterministic calls, async-ness, and, when it is safe,
 * its body prepared for inlining into a fused chain.
 *
 * In: the function's syntax node and the type checker. Out: diagnostics and a FunctionPlan.
 */
import ts from 'typescript';
import { diagnostics } from '../../diagnostics/index.ts';
import { locationOfNode } from '../../diagnostics/location.ts';
import type { FunctionPlan, InlineBody } from '../../ir/analysis.ts';
import { displayPath } from '../../host.ts';
import type { AnalyzeContext } from './context.ts';

/** Calls whose result differs on every run. */
const NON_DETERMINISTIC = new Set(['Date.now', 'Math.random', 'performance.now', 'crypto.randomUUID', 'crypto.getRandomValues']);
/** Methods that change the object they are called on. */
const MUTATING_METHODS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin', 'set', 'add', 'delete', 'clear']);
/** Names generated code uses; an inlined body must not declare them. */
const RESERVED = /^(?:[vk]\d+|ts|env|rt|emit\d+|skip)$/;

/** How a function is used, which decides the checks. */
export interface FunctionRole {
  /** The operator's name in messages: 'map', 'keyBy', 'process'... */
  operator: string;
  /** Whether generated code may inline it (map, filter, flatMap, keyBy, timestamps). */
  inlinable: boolean;
  /** Whether it is re-run when input is replayed (everything but generator sources and sinks). */
  replayed: boolean;
}

type FunctionNode = ts.ArrowFunction | ts.FunctionExpression | ts.FunctionDeclaration | ts.MethodDeclaration;

function isFunctionNode(node: ts.Node): node is FunctionNode {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node);
}

/** Follows an identifier argument (`.map(parse)`) to the function it names, if it is in the user's code. */
export function resolveFunction(ctx: AnalyzeContext, expression: ts.Expression): { fn: FunctionNode | null; objectMethods: FunctionNode[] } {
  if (isFunctionNode(expression)) return { fn: expression, objectMethods: [] };
  if (ts.isObjectLiteralExpression(expression)) {
    const methods: FunctionNode[] = [];
    for (const property of expression.properties) {
      if (ts.isMethodDeclaration(property)) methods.push(property);
      else if (ts.isPropertyAssignment(property) && isFunctionNode(property.initializer)) methods.push(property.initializer);
    }
    return { fn: null, objectMethods: methods };
  }
  if (ts.isIdentifier(expression)) {
    let symbol = ctx.checker.getSymbolAtLocation(expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = ctx.checker.getAliasedSymbol(symbol);
    const declaration = symbol?.declarations?.[0];
    if (declaration && ctx.isUserFile(declaration.getSourceFile())) {
      if (ts.isFunctionDeclaration(declaration)) return { fn: declaration, objectMethods: [] };
      if (ts.isVariableDeclaration(declaration) && declaration.initializer) return resolveFunction(ctx, declaration.initializer);
    }
  }
  return { fn: null, objectMethods: [] };
}

/** Whether an identifier is read or written as a value (not a property name, not in a type). */
function isValueReference(id: ts.Identifier, fn: ts.Node): boolean {
  const parent = id.parent;
  if ((ts.isPropertyAccessExpression(parent) && parent.name === id) || (ts.isQualifiedName(parent) && parent.right === id)) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent)) && parent.name === id) return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  for (let n: ts.Node = parent; n && n !== fn; n = n.parent) if (ts.isTypeNode(n) || ts.isTypeAliasDeclaration(n) || ts.isInterfaceDeclaration(n)) return false;
  return true;
}

function isWrite(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (ts.isBinaryExpression(parent) && parent.left === id && parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment) return true;
  return (ts.isPrefixUnaryExpression(parent) || ts.isPostfixUnaryExpression(parent)) && (parent.operator === ts.SyntaxKind.PlusPlusToken || parent.operator === ts.SyntaxKind.MinusMinusToken);
}

/** The identifier at the root of `a.b[c].d`. */
function rootIdentifier(expression: ts.Expression): ts.Identifier | null {
  while (ts.isPropertyAccessExpression(expression) || ts.isElementAccessExpression(expression) || ts.isParenthesizedExpression(expression) || ts.isNonNullExpression(expression)) expression = expression.expression;
  return ts.isIdentifier(expression) ? expression : null;
}

/** Whether a const-declared object is changed anywhere in its file (property writes or mutating method calls). */
function isMutatedObject(ctx: AnalyzeContext, symbol: ts.Symbol, sourceFile: ts.SourceFile): boolean {
  const cached = ctx.mutatedSymbols.get(symbol);
  if (cached !== undefined) return cached;
  let mutated = false;
  const visit = (node: ts.Node): void => {
    if (mutated) return;
    let target: ts.Expression | null = null;
    if (ts.isBinaryExpression(node) && node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && node.operatorToken.kind <= ts.SyntaxKind.LastAssignment && !ts.isIdentifier(node.left)) target = node.left;
    else if ((ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) && !ts.isIdentifier(node.operand)) target = node.operand;
    else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && MUTATING_METHODS.has(node.expression.name.text)) target = node.expression.expression;
    else if (ts.isDeleteExpression(node)) target = node.expression;
    if (target) {
      const root = rootIdentifier(target);
      if (root && ctx.checker.getSymbolAtLocation(root) === symbol) mutated = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  ctx.mutatedSymbols.set(symbol, mutated);
  return mutated;
}

function isGlobalDeclaration(ctx: AnalyzeContext, declaration: ts.Declaration): boolean {
  const file = declaration.getSourceFile();
  return ctx.program.isSourceFileDefaultLibrary(file) || /[\\/]node_modules[\\/]@types[\\/]/.test(file.fileName) || /[\\/]typescript[\\/]lib[\\/]/.test(file.fileName);
}

function isSuppressed(node: ts.Node, code: string): boolean {
  const sourceFile = node.getSourceFile();
  const line = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line;
  if (line === 0) return false;
  const starts = sourceFile.getLineStarts();
  const previous = sourceFile.text.slice(starts[line - 1], starts[line]);
  return new RegExp(`//\\s*pipec-ignore\\b[^\\n]*\\b${code}\\b`).test(previous);
}

/** Outer variables a function uses, keyed by name. */
interface Capture { name: string; mutable: boolean; write: boolean; declaration: string; at: ts.Identifier }

function capturesOf(ctx: AnalyzeContext, fn: FunctionNode): { captures: Map<string, Capture>; usesThis: boolean } {
  const captures = new Map<string, Capture>();
  let usesThis = false;
  const fnFile = fn.getSourceFile();
  const inside = (d: ts.Node) => d.getSourceFile() === fnFile && d.pos >= fn.pos && d.end <= fn.end;
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.ThisKeyword) usesThis = true;
    if (ts.isIdentifier(node) && isValueReference(node, fn)) {
      const shorthand = ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node;
      let symbol = shorthand ? ctx.checker.getShorthandAssignmentValueSymbol(node.parent) : ctx.checker.getSymbolAtLocation(node);
      if (node.text === 'arguments' && !symbol) usesThis = true;
      const isImport = !!symbol && (symbol.flags & ts.SymbolFlags.Alias) !== 0;
      if (symbol && isImport) symbol = ctx.checker.getAliasedSymbol(symbol);
      const declarations = symbol?.declarations ?? [];
      if (symbol && declarations.length > 0 && !declarations.every(inside) && !declarations.every((d) => isGlobalDeclaration(ctx, d))) {
        const declaration = declarations[0];
        const write = isWrite(node);
        let kind = isImport ? 'an import' : 'a function or class';
        let mutable = false;
        if (!isImport && ts.isVariableDeclaration(declaration)) {
          const flags = ts.getCombinedNodeFlags(declaration);
          kind = flags & ts.NodeFlags.Const ? 'const' : flags & ts.NodeFlags.Let ? 'let' : 'var';
          mutable = kind !== 'const' || isMutatedObject(ctx, symbol, declaration.getSourceFile());
          if (kind === 'const' && mutable) kind = 'a const object that is modified elsewhere';
          else if (kind === 'let' || kind === 'var') kind = `a '${kind}' variable`;
          else kind = 'a const';
        } else if (!isImport && ts.isParameter(declaration)) {
          kind = 'a parameter of an enclosing function';
          mutable = true;
        }
        const previous = captures.get(node.text);
        if (!previous || (!previous.write && write)) captures.set(node.text, { name: node.text, mutable: mutable || write, write, declaration: kind, at: node });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(fn.body!);
  return { captures, usesThis };
}

function checkNonDeterminism(ctx: AnalyzeContext, fn: FunctionNode, operator: string): void {
  const visit = (node: ts.Node): void => {
    let call: string | null = null;
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ts.isIdentifier(node.expression.expression)) {
      const name = `${node.expression.expression.text}.${node.expression.name.text}`;
      if (NON_DETERMINISTIC.has(name)) call = `${name}()`;
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date' && (!node.arguments || node.arguments.length === 0)) {
      call = 'new Date()';
    }
    if (call && !isSuppressed(node, 'PC1002')) ctx.report(diagnostics.nonDeterministicCall(locationOfNode(ctx.host, node), { call, operator }));
    ts.forEachChild(node, visit);
  };
  if (fn.body) visit(fn.body);
}

function isPromiseLike(ctx: AnalyzeContext, type: ts.Type): boolean {
  const then = type.getProperty('then');
  if (!then) return false;
  const thenType = ctx.checker.getTypeOfSymbol(then);
  return thenType.getCallSignatures().length > 0;
}

function checkAsync(ctx: AnalyzeContext, fn: FunctionNode, operator: string): boolean {
  const isAsync = ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async;
  let returnsPromise = false;
  if (!isAsync) {
    const signature = ctx.checker.getSignatureFromDeclaration(fn);
    returnsPromise = !!signature && isPromiseLike(ctx, ctx.checker.getReturnTypeOfSignature(signature));
  }
  if (isAsync || returnsPromise) {
    ctx.report(diagnostics.asyncFunction(locationOfNode(ctx.host, fn), { operator }));
    return true;
  }
  return false;
}

/** Builds the marked body text (see InlineBody) of an arrow or function expression. */
function prepareInline(ctx: AnalyzeContext, fn: ts.ArrowFunction | ts.FunctionExpression): InlineBody | string {
  if (fn.asteriskToken) return 'it is a generator function';
  for (const p of fn.parameters) if (!ts.isIdentifier(p.name) || p.initializer || p.dotDotDotToken) return 'its parameters use destructuring, defaults or rest';
  const paramSymbols = fn.parameters.map((p) => ctx.checker.getSymbolAtLocation(p.name));
  const body = fn.body;
  const sourceFile = fn.getSourceFile();
  let reserved: string | null = null;
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const visit = (node: ts.Node, nested: boolean): void => {
    if (ts.isIdentifier(node)) {
      if (RESERVED.test(node.text) && (ts.isVariableDeclaration(node.parent) || ts.isParameter(node.parent) || ts.isBindingElement(node.parent))) reserved = node.text;
      const shorthand = ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node;
      const symbol = shorthand ? ctx.checker.getShorthandAssignmentValueSymbol(node.parent) : isValueReference(node, fn) ? ctx.checker.getSymbolAtLocation(node) : undefined;
      const index = symbol ? paramSymbols.indexOf(symbol) : -1;
      if (index >= 0) edits.push({ start: node.getStart(sourceFile), end: node.getEnd(), text: `${shorthand ? `${node.text}: ` : ''}\uE000${index}\uE001` });
    }
    if (ts.isReturnStatement(node) && !nested) {
      const start = node.getStart(sourceFile);
      if (node.expression) {
        edits.push({ start, end: node.expression.getStart(sourceFile), text: '\uE002' });
        edits.push({ start: node.expression.getEnd(), end: node.getEnd(), text: '\uE003' });
      } else {
        edits.push({ start, end: node.getEnd(), text: '\uE002undefined\uE003' });
      }
    }
    ts.forEachChild(node, (child) => visit(child, nested || isFunctionNode(child) || ts.isClassLike(child)));
  };
  visit(body, false);
  if (reserved) return `it declares '${reserved}', a name generated code uses`;
  const render = (start: number, end: number) => {
    let text = '';
    let at = start;
    for (const edit of edits.filter((e) => e.start >= start && e.end <= end).sort((a, b) => a.start - b.start)) {
      text += sourceFile.text.slice(at, edit.start) + edit.text;
      at = edit.end;
    }
    return text + sourceFile.text.slice(at, end);
  };
  let expression: ts.Node = body;
  while (ts.isParenthesizedExpression(expression) && ts.isArrayLiteralExpression(expression.expression)) expression = expression.expression;
  const arrayElements = !ts.isBlock(body) && ts.isArrayLiteralExpression(expression) && expression.elements.every((e) => !ts.isSpreadElement(e) && !ts.isOmittedExpression(e))
    ? expression.elements.map((e) => render(e.getStart(sourceFile), e.getEnd()))
    : null;
  const bodyStart = ts.isBlock(body) ? body.getStart(sourceFile) + 1 : body.getStart(sourceFile);
  const bodyEnd = ts.isBlock(body) ? body.getEnd() - 1 : body.getEnd();
  const position = sourceFile.getLineAndCharacterOfPosition(bodyStart);
  return {
    kind: ts.isBlock(body) ? 'block' : 'expression',
    body: render(bodyStart, bodyEnd),
    arity: fn.parameters.length,
    arrayElements,
    site: { file: displayPath(ctx.host, sourceFile.fileName), line: position.line + 1, column: position.character + 1 },
  };
}

/** Runs every check on a user function passed to an operator and decides how generated code calls it. */
export function analyzeFunction(ctx: AnalyzeContext, nodeId: number, argument: ts.Expression | undefined, role: FunctionRole): FunctionPlan {
  const reference = (reason: string): FunctionPlan => ({ nodeId, strategy: 'reference', reason, inline: null });
  if (!argument) return reference('its source could not be found');
  const { fn, objectMethods } = resolveFunction(ctx, argument);
  const functions = fn ? [fn] : objectMethods;
  let problems = false;
  let outer: Capture | undefined;
  let usesThisOrArguments = false;
  for (const f of functions) {
    if (!f.body) continue;
    if (checkAsync(ctx, f, role.operator)) problems = true;
    if (role.replayed) checkNonDeterminism(ctx, f, role.operator);
    const { captures, usesThis } = capturesOf(ctx, f);
    usesThisOrArguments ||= usesThis;
    for (const capture of captures.values()) {
      outer ??= capture;
      if (capture.mutable && role.replayed) {
        problems = true;
        ctx.report(diagnostics.capturedMutableState(locationOfNode(ctx.host, capture.at), {
          operator: role.operator, access: capture.write ? 'writes' : 'reads', variable: capture.name, declaration: capture.declaration,
        }));
      }
    }
  }
  if (!fn) return reference(objectMethods.length ? 'it is an object with methods' : 'it is not a function literal in your code');
  if (!role.inlinable) return reference(`${role.operator} functions are always called by reference`);
  if (problems) return reference('it has errors');
  if (outer) return reference(`it uses '${outer.name}' from outside (${outer.declaration})`);
  if (usesThisOrArguments) return reference("it uses 'this' or 'arguments'");
  if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn)) return reference('it is declared elsewhere');
  const inline = prepareInline(ctx, fn);
  return typeof inline === 'string' ? reference(inline) : { nodeId, strategy: 'inline', reason: null, inline };
}

/** The return type of a function argument, for checks such as the key type. */
export function returnTypeOf(ctx: AnalyzeContext, argument: ts.Expression | undefined): ts.Type | null {
  if (!argument) return null;
  const type = ctx.checker.getTypeAtLocation(argument);
  const signature = type.getCallSignatures()[0];
  return signature ? ctx.checker.getReturnTypeOfSignature(signature) : null;
}
