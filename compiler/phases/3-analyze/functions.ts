/**
 * Analysis of one user function: what it captures from outside (and whether
 * that is mutable), non-deterministic calls, async-ness, and, when it is safe,
 * its body prepared for inlining into a fused chain.
 *
 * In: the function's syntax node and the type checker. Out: diagnostics and a FunctionPlan.
 */
import ts from '../../typescript.ts';
import { diagnostics } from '../../diagnostics/index.ts';
import { locationOfNode } from '../../diagnostics/location.ts';
import type { FunctionPlan, InlineBody, InlinePiece, InlineSnippet } from '../../ir/analysis.ts';
import { displayPath } from '../../host.ts';
import type { AnalyzeContext } from './context.ts';
import { isPrimitiveType, isThisParameter, mayMutateParameter } from './mutation.ts';

/** Calls whose result differs on every run. */
const NON_DETERMINISTIC = new Set(['Date.now', 'Math.random', 'performance.now', 'crypto.randomUUID', 'crypto.getRandomValues']);
/** Methods that change the object they are called on. */
const MUTATING_METHODS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin', 'set', 'add', 'delete', 'clear']);

/** How a function is used, which decides the checks. */
export interface FunctionRole {
  /** The operator's name in messages: 'map', 'keyBy', 'process'... */
  operator: string;
  /** Whether generated code may inline it (map, filter, flatMap, keyBy, timestamps). */
  inlinable: boolean;
  /** Whether it is re-run when input is replayed (everything but generator sources and sinks). */
  replayed: boolean;
  /** Methods of a function object that may be async (the runtime awaits them): no PC1005 for those. */
  asyncMethods?: ReadonlySet<string>;
  /** The function returns a promise, which the runtime awaits (asyncMap): no PC1005. */
  asynchronous?: boolean;
}

/** open(ctx) and close() of process functions may be async: the runtime awaits open before the first record and close at the end. */
export const LIFECYCLE_METHODS: ReadonlySet<string> = new Set(['open', 'close']);

/** `open` for `open() {}`, `open: async () => {}` and `open: async function () {}` in an object literal. */
function methodName(fn: FunctionNode): string | null {
  const named = ts.isMethodDeclaration(fn) ? fn : ts.isPropertyAssignment(fn.parent) ? fn.parent : null;
  return named && (ts.isIdentifier(named.name) || ts.isStringLiteral(named.name)) ? named.name.text : null;
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

/** Whether `fn` is the build function of a `pipeline(name, build)` call. */
function isBuildFunction(fn: ts.Node): boolean {
  const call = fn.parent;
  return ts.isCallExpression(call) && call.arguments[1] === fn && ts.isIdentifier(call.expression) && call.expression.text === 'pipeline';
}

/**
 * Whether a change at `node` can happen while the job runs. Changes at a
 * module's top level or directly in the build function happen once, when every
 * worker starts, the same in each (filling a lookup table): the object is a
 * constant from then on. A change inside any other function may happen later.
 */
function changesWhileRunning(node: ts.Node): boolean {
  let fn: ts.Node | undefined = node.parent;
  while (fn && !ts.isFunctionLike(fn)) fn = fn.parent;
  return fn !== undefined && !isBuildFunction(fn);
}

/** Whether a const-declared object is changed, while the job runs, anywhere in its file (property writes or mutating method calls). */
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
      if (root && ctx.checker.getSymbolAtLocation(root) === symbol && changesWhileRunning(node)) mutated = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  ctx.mutatedSymbols.set(symbol, mutated);
  return mutated;
}

/** Whether any identifier naming `symbol` inside `scope` is assigned to. */
function isReassigned(ctx: AnalyzeContext, symbol: ts.Symbol, scope: ts.Node): boolean {
  let written = false;
  const visit = (node: ts.Node): void => {
    if (written) return;
    if (ts.isIdentifier(node) && isWrite(node) && ctx.checker.getSymbolAtLocation(node) === symbol) written = true;
    ts.forEachChild(node, visit);
  };
  visit(scope);
  return written;
}

function isGlobalDeclaration(ctx: AnalyzeContext, declaration: ts.Declaration): boolean {
  const file = declaration.getSourceFile();
  return ctx.program.isSourceFileDefaultLibrary(file) || /[\\/]node_modules[\\/]@types[\\/]/.test(file.fileName) || /[\\/]typescript[\\/]lib[\\/]/.test(file.fileName);
}

/** Whether the line above `node` says `// pipec-ignore <code>`. */
export function isSuppressed(node: ts.Node, code: string): boolean {
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
  // `this` inside a nested function (not an arrow) or class is that function's own.
  const ownsThis = (node: ts.Node) => (ts.isFunctionLike(node) && !ts.isArrowFunction(node)) || ts.isClassLike(node);
  const visit = (node: ts.Node, nestedThis = false): void => {
    if (node.kind === ts.SyntaxKind.ThisKeyword && !nestedThis) usesThis = true;
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
          // A parameter that is never assigned (and, if an object, never changed) is as constant as a const.
          kind = 'a parameter of an enclosing function';
          mutable = isReassigned(ctx, symbol, declaration.parent) || isMutatedObject(ctx, symbol, declaration.getSourceFile());
          if (mutable) kind = 'a parameter of an enclosing function that is changed';
        }
        const previous = captures.get(node.text);
        if (!previous || (!previous.write && write)) captures.set(node.text, { name: node.text, mutable: mutable || write, write, declaration: kind, at: node });
      }
    }
    ts.forEachChild(node, (child) => visit(child, nestedThis || ownsThis(child)));
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

/** Whether `node` starts a new function or class scope: a `return` inside it is not the lambda's own. */
function startsOwnScope(node: ts.Node): boolean {
  return ts.isFunctionLike(node) || ts.isClassLike(node) || ts.isClassStaticBlockDeclaration(node);
}

/** Why the body of `fn` cannot be inlined with the same meaning, or null when it can. */
function inlineBlocker(ctx: AnalyzeContext, fn: ts.ArrowFunction | ts.FunctionExpression, parameters: readonly ts.ParameterDeclaration[]): string | null {
  if (fn.asteriskToken) return 'it is a generator function';
  for (const p of parameters) if (!ts.isIdentifier(p.name) || p.initializer || p.dotDotDotToken) return 'its parameters use destructuring, defaults or rest';
  const paramSymbols = new Set(parameters.map((p) => ctx.checker.getSymbolAtLocation(p.name)));
  const selfName = ts.isFunctionExpression(fn) && fn.name ? fn.name.text : null;
  let blocker: string | null = null;
  const visit = (node: ts.Node, nested: boolean): void => {
    if (blocker) return;
    if (ts.isIdentifier(node)) {
      if (node.text === 'arguments' && isValueReference(node, fn)) blocker = "it reads 'arguments'";
      else if (selfName !== null && node.text === selfName && isValueReference(node, fn)) blocker = `it refers to itself by its name '${selfName}'`;
      else if (isWrite(node) && paramSymbols.has(ctx.checker.getSymbolAtLocation(node))) blocker = `it assigns to its parameter '${node.text}'`;
    } else if (ts.isMetaProperty(node)) {
      blocker = `it uses '${node.getText()}'`;
    } else if (!nested && ts.isVariableDeclarationList(node) && !(node.flags & ts.NodeFlags.BlockScoped)) {
      blocker = "it declares a 'var', whose scope would outlive one call";
    } else if (!nested && (ts.isYieldExpression(node) || ts.isAwaitExpression(node))) {
      blocker = `it uses '${ts.isYieldExpression(node) ? 'yield' : 'await'}'`;
    }
    ts.forEachChild(node, (child) => visit(child, nested || startsOwnScope(child)));
  };
  visit(fn.body, false);
  if (!blocker) {
    // Destructuring assignments (`[x] = ...`, `({ x } = ...)`) write their targets without a binary `=` on the identifier itself.
    const writesParam = (node: ts.Node): boolean => {
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && (ts.isArrayLiteralExpression(node.left) || ts.isObjectLiteralExpression(node.left))) {
        let found = false;
        const scan = (n: ts.Node): void => { if (ts.isIdentifier(n) && paramSymbols.has(ctx.checker.getSymbolAtLocation(n))) found = true; ts.forEachChild(n, scan); };
        scan(node.left);
        if (found) return true;
      }
      if ((ts.isForOfStatement(node) || ts.isForInStatement(node)) && ts.isIdentifier(node.initializer) && paramSymbols.has(ctx.checker.getSymbolAtLocation(node.initializer))) return true;
      return ts.forEachChild(node, writesParam) ?? false;
    };
    if (writesParam(fn.body)) blocker = 'it assigns to one of its parameters';
  }
  return blocker;
}

/** Offsets of every line break inside a string or template literal of `node`. */
function literalLineBreaks(node: ts.Node, sourceFile: ts.SourceFile): number[] {
  const breaks: number[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
      const text = sourceFile.text;
      for (let i = n.getStart(sourceFile); i < n.getEnd(); i++) if (text[i] === '\n') breaks.push(i);
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  return breaks;
}

/** Whether an identifier names a property (`r.ts`, `{ ts: 1 }`, a method), which no variable can capture or shadow. */
function isPropertyName(id: ts.Identifier): boolean {
  const parent = id.parent;
  if ((ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && (ts.isPropertyAccessExpression(parent) ? parent.name : parent.right) === id) return true;
  if ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent)
    || ts.isGetAccessorDeclaration(parent) || ts.isSetAccessorDeclaration(parent) || ts.isMethodSignature(parent)) && parent.name === id) return true;
  return ts.isBindingElement(parent) && parent.propertyName === id;
}

/** Every identifier text (and label) inside `node` that names a variable, function, class or label, sorted. */
function identifiersIn(node: ts.Node): string[] {
  const names = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && !isPropertyName(n)) names.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(node);
  return [...names].sort();
}

/** Builds the InlineBody of an arrow or function expression, or says why it cannot be inlined. */
function prepareInline(ctx: AnalyzeContext, fn: ts.ArrowFunction | ts.FunctionExpression): InlineBody | string {
  // A `this: void` parameter is a type annotation, not an argument.
  const parameters = fn.parameters.filter((p) => !isThisParameter(p));
  const blocker = inlineBlocker(ctx, fn, parameters);
  if (blocker) return blocker;
  const paramSymbols = parameters.map((p) => ctx.checker.getSymbolAtLocation(p.name));
  const body = fn.body;
  const sourceFile = fn.getSourceFile();
  type Hole = { start: number; end: number; piece: InlinePiece; prefix?: string };
  const holes: Hole[] = [];
  const visit = (node: ts.Node, nested: boolean): void => {
    if (ts.isIdentifier(node)) {
      const shorthand = ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node;
      const symbol = shorthand ? ctx.checker.getShorthandAssignmentValueSymbol(node.parent) : isValueReference(node, fn) ? ctx.checker.getSymbolAtLocation(node) : undefined;
      const index = symbol ? paramSymbols.indexOf(symbol) : -1;
      if (index >= 0) holes.push({ start: node.getStart(sourceFile), end: node.getEnd(), piece: { param: index }, prefix: shorthand ? `${node.text}: ` : undefined });
    }
    if (ts.isReturnStatement(node) && !nested) {
      const start = node.getStart(sourceFile);
      if (node.expression) {
        const expressionStart = node.expression.getStart(sourceFile);
        const expressionEnd = node.expression.getEnd();
        holes.push({ start, end: expressionStart, piece: { return: 'open' } });
        // `return a, b` becomes an assignment: keep the comma expression whole.
        const comma = ts.isBinaryExpression(node.expression) && node.expression.operatorToken.kind === ts.SyntaxKind.CommaToken;
        if (comma) holes.push({ start: expressionStart, end: expressionStart, piece: '(' }, { start: expressionEnd, end: expressionEnd, piece: ')' });
        holes.push({ start: expressionEnd, end: node.getEnd(), piece: { return: 'close' } });
      } else {
        holes.push({ start, end: node.getEnd(), piece: { return: 'void' } });
      }
    }
    ts.forEachChild(node, (child) => visit(child, nested || startsOwnScope(child)));
  };
  visit(body, false);
  holes.sort((a, b) => a.start - b.start);
  const breaks = literalLineBreaks(body, sourceFile);
  const snippet = (start: number, end: number): InlineSnippet => {
    const pieces: InlinePiece[] = [];
    let at = start;
    const text = (to: number) => { if (to > at) pieces.push(sourceFile.text.slice(at, to)); };
    for (const hole of holes) {
      if (hole.start < start || hole.end > end) continue;
      text(hole.start);
      if (hole.prefix) pieces.push(hole.prefix);
      pieces.push(hole.piece);
      at = hole.end;
    }
    text(end);
    const first = sourceFile.getLineAndCharacterOfPosition(start);
    const literalBreaks = breaks.filter((b) => b >= start && b < end).map((b) => sourceFile.getLineAndCharacterOfPosition(b).line - first.line);
    return { pieces, literalBreaks, site: { file: displayPath(ctx.host, sourceFile.fileName), line: first.line + 1, column: first.character + 1 } };
  };
  let expression: ts.Node = body;
  while (ts.isParenthesizedExpression(expression) && ts.isArrayLiteralExpression(expression.expression)) expression = expression.expression;
  const arrayElements = !ts.isBlock(body) && ts.isArrayLiteralExpression(expression) && expression.elements.every((e) => !ts.isSpreadElement(e) && !ts.isOmittedExpression(e))
    ? expression.elements.map((e) => snippet(e.getStart(sourceFile), e.getEnd()))
    : null;
  const bodyStart = ts.isBlock(body) ? body.getStart(sourceFile) + 1 : body.getStart(sourceFile);
  const bodyEnd = ts.isBlock(body) ? body.getEnd() - 1 : body.getEnd();
  return {
    kind: ts.isBlock(body) ? 'block' : 'expression',
    body: snippet(bodyStart, bodyEnd),
    arity: parameters.length,
    arrayElements,
    identifiers: identifiersIn(fn),
  };
}

/** Whether a function (not in the user's code) is declared to return an array, which it builds before returning. */
function returnsArray(ctx: AnalyzeContext, argument: ts.Expression): boolean {
  const type = returnTypeOf(ctx, argument);
  return !!type && (ctx.checker.isArrayType(type) || ctx.checker.isTupleType(type));
}

/** Record-receiving methods of a function object, in input order (ProcessFunction, CoProcessFunction). */
const RECORD_METHODS = ['processElement', 'processElement1', 'processElement2'];

/**
 * For each record argument generated code passes (the parameters of a
 * function; the first parameter of each processElement method of an object),
 * whether the function may change it (see mutation.ts).
 */
function recordMutations(ctx: AnalyzeContext, argument: ts.Expression, fn: FunctionNode | null, objectMethods: FunctionNode[]): boolean[] {
  if (fn) return fn.parameters.filter((p) => !isThisParameter(p)).map((_p, i) => mayMutateParameter(ctx.checker, fn, i));
  if (objectMethods.length > 0) {
    const named = (name: string) => objectMethods.find((m) => m.name && ts.isIdentifier(m.name) && m.name.text === name)
      ?? objectMethods.find((m) => ts.isPropertyAssignment(m.parent) && ts.isIdentifier(m.parent.name) && m.parent.name.text === name);
    return RECORD_METHODS.map((name) => { const m = named(name); return m ? mayMutateParameter(ctx.checker, m, 0) : true; });
  }
  // Not in the user's code (an import from a package): only primitive parameters are known to be safe.
  const signature = ctx.checker.getTypeAtLocation(argument).getCallSignatures()[0];
  if (!signature) return [true, true, true];
  return signature.getParameters().map((p) => !isPrimitiveType(ctx.checker.getTypeOfSymbol(p)));
}

/** Runs every check on a user function passed to an operator and decides how generated code calls it. */
export function analyzeFunction(ctx: AnalyzeContext, nodeId: number, argument: ts.Expression | undefined, role: FunctionRole): FunctionPlan {
  if (!argument) return { nodeId, strategy: 'reference', reason: 'its source could not be found', inline: null, mutates: [true, true], lazy: true };
  const { fn, objectMethods } = resolveFunction(ctx, argument);
  const mutates = recordMutations(ctx, argument, fn, objectMethods);
  const lazy = fn ? !!fn.asteriskToken : !returnsArray(ctx, argument);
  const reference = (reason: string): FunctionPlan => ({ nodeId, strategy: 'reference', reason, inline: null, mutates, lazy });
  const functions = fn ? [fn] : objectMethods;
  let problems = false;
  let outer: Capture | undefined;
  let usesThisOrArguments = false;
  for (const f of functions) {
    if (!f.body) continue;
    if (!role.asynchronous && !role.asyncMethods?.has(methodName(f) ?? '') && checkAsync(ctx, f, role.operator)) problems = true;
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
  if (typeof inline === 'string') return reference(inline);
  const resultKeys = objectLiteralKeys(fn.body);
  return { nodeId, strategy: 'inline', reason: null, inline, mutates, lazy, ...(resultKeys ? { resultKeys } : {}) };
}

/** The keys of an expression body that is an object literal of plain named properties (no spread, computed key, method or accessor). */
function objectLiteralKeys(body: ts.ConciseBody): string[] | null {
  let expression: ts.Node = body;
  while (ts.isParenthesizedExpression(expression)) expression = expression.expression;
  if (!ts.isObjectLiteralExpression(expression)) return null;
  const keys: string[] = [];
  for (const property of expression.properties) {
    if (ts.isShorthandPropertyAssignment(property)) keys.push(property.name.text);
    else if (ts.isPropertyAssignment(property) && (ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) keys.push(property.name.text);
    else return null;
  }
  return new Set(keys).size === keys.length && !keys.includes('__proto__') ? keys : null;
}

/** The return type of a function argument, for checks such as the key type. */
export function returnTypeOf(ctx: AnalyzeContext, argument: ts.Expression | undefined): ts.Type | null {
  if (!argument) return null;
  const type = ctx.checker.getTypeAtLocation(argument);
  const signature = type.getCallSignatures()[0];
  return signature ? ctx.checker.getReturnTypeOfSignature(signature) : null;
}
