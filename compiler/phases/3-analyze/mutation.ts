/**
 * Whether a user function may change a record it receives. Flink hands every
 * operator its own copy of a record; pipec passes records by reference and
 * copies only where this analysis cannot prove that the function leaves its
 * input alone. A function that mutates gets a private copy, so no sibling
 * branch, later operator or stored state ever sees the change.
 *
 * The analysis follows the parameter, and every local that aliases part of it
 * (`const items = r.items`, `for (const item of r.items)`, callbacks of array
 * methods), through reads. A use it does not understand — an unknown call, a
 * store into another object, a value captured by a nested function's result —
 * counts as a mutation: wrong answers cost more than a copy.
 *
 * In: a function's syntax node and parameter index, the type checker. Out: a boolean.
 */
import ts from '../../typescript.ts';

/** Methods that change their receiver (arrays, Map, Set, typed arrays, Date setters are matched by /^set[A-Z]/). */
const MUTATING_METHODS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin', 'set', 'add', 'delete', 'clear']);
/** Methods that read their receiver and return a primitive or a fresh value with no part of the receiver in it. */
const READING_METHODS = new Set([
  'includes', 'indexOf', 'lastIndexOf', 'join', 'has', 'toString', 'toFixed', 'toPrecision', 'toLocaleString', 'toISOString',
  'toJSON', 'toUTCString', 'toDateString', 'toTimeString', 'valueOf', 'startsWith', 'endsWith', 'trim', 'trimStart', 'trimEnd',
  'toLowerCase', 'toUpperCase', 'split', 'charAt', 'charCodeAt', 'codePointAt', 'padStart', 'padEnd', 'replace', 'replaceAll',
  'match', 'matchAll', 'search', 'repeat', 'normalize', 'localeCompare', 'substring', 'substr', 'keys', 'findIndex', 'findLastIndex',
  'some', 'every', 'forEach',
]);
/** Methods whose result holds parts of the receiver (elements), so the result aliases the input. */
const ALIASING_METHODS = new Set(['slice', 'concat', 'flat', 'values', 'entries', 'at', 'get', 'find', 'findLast', 'filter', 'map', 'flatMap', 'reduce', 'reduceRight', 'toSorted', 'toReversed', 'with']);
/** Array methods whose callback receives elements of the receiver: parameter indexes that alias. */
const CALLBACK_ELEMENT_PARAMS: Record<string, number[]> = {
  map: [0], filter: [0], flatMap: [0], forEach: [0], some: [0], every: [0], find: [0], findLast: [0], findIndex: [0], findLastIndex: [0],
  reduce: [0, 1], reduceRight: [0, 1], toSorted: [0, 1],
};
/** Global functions that only read their arguments and return something new. */
const READING_FUNCTIONS = new Set([
  'JSON.stringify', 'String', 'Number', 'Boolean', 'BigInt', 'Array.isArray', 'Object.keys', 'isNaN', 'isFinite', 'parseInt', 'parseFloat',
  'Number.isFinite', 'Number.isInteger', 'Number.isNaN', 'Number.isSafeInteger', 'Date.parse', 'encodeURIComponent', 'decodeURIComponent',
  'encodeURI', 'decodeURI', 'structuredClone', 'console.log', 'console.error', 'console.warn', 'Object.is',
]);
/** Global functions whose result holds parts of their arguments. */
const ALIASING_FUNCTIONS = new Set(['Object.values', 'Object.entries', 'Array.from', 'Array.of', 'Object.fromEntries']);
/** Methods that hand a value downstream (ctx.emit, ctx.output, out.collect): the receiver of the value copies if it mutates. */
const OUTPUT_METHODS = new Set(['emit', 'output', 'collect']);

const PRIMITIVE_FLAGS = ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.BooleanLike
  | ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void | ts.TypeFlags.EnumLike | ts.TypeFlags.ESSymbolLike | ts.TypeFlags.Never;

/** Whether every value of `type` is a primitive (so nothing reached through it can be changed). */
export function isPrimitiveType(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.every(isPrimitiveType);
  return (type.flags & PRIMITIVE_FLAGS) !== 0;
}

/** Whether a parameter is TypeScript's `this: T` annotation, which takes no argument. */
export function isThisParameter(p: ts.ParameterDeclaration): boolean {
  return ts.isIdentifier(p.name) && p.name.text === 'this';
}

function containingFunction(node: ts.Node): ts.Node | undefined {
  let n = node.parent;
  while (n && !ts.isFunctionLike(n)) n = n.parent;
  return n;
}

function dottedName(expression: ts.Expression): string | null {
  if (ts.isIdentifier(expression)) return expression.text;
  if (ts.isPropertyAccessExpression(expression)) {
    const left = dottedName(expression.expression);
    return left ? `${left}.${expression.name.text}` : null;
  }
  return null;
}

function isAssignment(kind: ts.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

/** The identifiers a binding name declares (`x`, `{ a, b: [c] }`). */
function bindingIdentifiers(name: ts.BindingName): ts.Identifier[] {
  if (ts.isIdentifier(name)) return [name];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingIdentifiers(e.name)));
}

/** Whether `fn` may change (or let escape to where it could be changed) the value of its parameter `index`. */
export function mayMutateParameter(checker: ts.TypeChecker, fn: ts.SignatureDeclaration, index: number): boolean {
  const parameters = fn.parameters.filter((p) => !isThisParameter(p));
  const parameter = parameters[index];
  if (!parameter) return false;
  if (!('body' in fn) || !fn.body) return true;
  if (isPrimitiveType(checker.getTypeAtLocation(parameter.name))) return false;
  if (parameter.dotDotDotToken) return true;
  const body = fn.body as ts.Node;

  // Every identifier of the body, grouped by the symbol it names.
  const references = new Map<ts.Symbol, ts.Identifier[]>();
  const collect = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const symbol = ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node
        ? checker.getShorthandAssignmentValueSymbol(node.parent) : checker.getSymbolAtLocation(node);
      if (symbol) references.set(symbol, [...(references.get(symbol) ?? []), node]);
    }
    ts.forEachChild(node, collect);
  };
  collect(body);

  const roots: ts.Symbol[] = [];
  const seen = new Set<ts.Symbol>();
  const addRoots = (identifiers: ts.Identifier[]) => {
    for (const id of identifiers) {
      const symbol = checker.getSymbolAtLocation(id);
      if (symbol && !seen.has(symbol) && !isPrimitiveType(checker.getTypeAtLocation(id))) { seen.add(symbol); roots.push(symbol); }
    }
  };
  addRoots(bindingIdentifiers(parameter.name));

  /** Adds the element parameters of a callback literal as roots; false when the callback cannot be followed. */
  const followCallback = (call: ts.CallExpression, method: string): boolean => {
    const callback = call.arguments[0];
    if (!callback) return true;
    if (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback)) {
      for (const i of CALLBACK_ELEMENT_PARAMS[method] ?? []) {
        const p = callback.parameters[i];
        if (p) addRoots(bindingIdentifiers(p.name));
      }
      return true;
    }
    const name = dottedName(callback);
    return name !== null && READING_FUNCTIONS.has(name);
  };

  /** Whether one use of an aliasing value (the identifier `id` of a root) may change it. */
  const useMutates = (id: ts.Identifier): boolean => {
    let current: ts.Expression = id;
    for (;;) {
      const parent: ts.Node = current.parent;
      if ((ts.isPropertyAccessExpression(parent) || ts.isElementAccessExpression(parent)) && parent.expression === current) {
        const call = parent.parent;
        if (ts.isCallExpression(call) && call.expression === parent) {
          const method = ts.isPropertyAccessExpression(parent) ? parent.name.text : null;
          if (method === null) return true;
          if (isPrimitiveType(checker.getTypeAtLocation(current))) return false;
          if (MUTATING_METHODS.has(method) || /^set[A-Z]/.test(method)) return true;
          if (method in CALLBACK_ELEMENT_PARAMS && !followCallback(call, method)) return true;
          if (READING_METHODS.has(method) || /^get[A-Z]/.test(method)) return false;
          if (ALIASING_METHODS.has(method)) { current = call; continue; }
          return true;
        }
        current = parent;
        continue;
      }
      if (ts.isElementAccessExpression(parent) && parent.argumentExpression === current) return false;
      if (ts.isParenthesizedExpression(parent) || ts.isNonNullExpression(parent) || ts.isAsExpression(parent)
        || ts.isTypeAssertionExpression(parent) || ts.isSatisfiesExpression(parent)) { current = parent; continue; }
      if (ts.isConditionalExpression(parent)) {
        if (parent.condition === current) return false;
        current = parent;
        continue;
      }
      if (ts.isBinaryExpression(parent)) {
        const op = parent.operatorToken.kind;
        if (isAssignment(op)) {
          if (parent.left === current) return current !== id; // a write through the value, or a plain reassignment of a local
          if (op !== ts.SyntaxKind.EqualsToken) return false;
          // `local = value` aliases; a store anywhere else lets the value escape.
          if (ts.isIdentifier(parent.left)) {
            const target = checker.getSymbolAtLocation(parent.left);
            const declaration = target?.valueDeclaration;
            if (declaration && declaration.pos >= body.pos && declaration.end <= body.end) { addRoots([parent.left]); return false; }
          }
          return true;
        }
        if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) { current = parent; continue; }
        if (op === ts.SyntaxKind.CommaToken) { if (parent.left === current) return false; current = parent; continue; }
        return false; // arithmetic, comparison, in, instanceof: a read
      }
      if (ts.isPrefixUnaryExpression(parent) || ts.isPostfixUnaryExpression(parent)) {
        const op = parent.operator;
        if (op === ts.SyntaxKind.PlusPlusToken || op === ts.SyntaxKind.MinusMinusToken) return current !== id;
        return false;
      }
      if (ts.isDeleteExpression(parent)) return true;
      if (ts.isTypeOfExpression(parent) || ts.isVoidExpression(parent) || ts.isTemplateSpan(parent) || ts.isExpressionStatement(parent)) return false;
      if ((ts.isIfStatement(parent) || ts.isWhileStatement(parent) || ts.isDoStatement(parent) || ts.isSwitchStatement(parent)
        || ts.isCaseClause(parent)) && parent.expression === current) return false;
      if (ts.isForStatement(parent) && parent.condition === current) return false;
      if (ts.isForInStatement(parent)) return false;
      if (ts.isPropertyAssignment(parent) || ts.isShorthandPropertyAssignment(parent) || ts.isSpreadAssignment(parent)) { current = parent.parent as ts.ObjectLiteralExpression; continue; }
      if (ts.isSpreadElement(parent)) { current = parent; continue; }
      if (ts.isArrayLiteralExpression(parent)) { current = parent; continue; }
      if (ts.isVariableDeclaration(parent) && parent.initializer === current) { addRoots(bindingIdentifiers(parent.name)); return false; }
      if (ts.isForOfStatement(parent) && parent.expression === current) {
        const init = parent.initializer;
        if (ts.isVariableDeclarationList(init)) addRoots(init.declarations.flatMap((d) => bindingIdentifiers(d.name)));
        else return true;
        return false;
      }
      // The function's own result: the next operator gets it, and copies it if it mutates.
      if (ts.isReturnStatement(parent)) return containingFunction(parent) !== fn;
      if (ts.isArrowFunction(parent) && parent.body === current) return parent !== fn;
      if (ts.isCallExpression(parent) && parent.arguments.includes(current)) {
        const callee = parent.expression;
        const name = dottedName(callee);
        if (name && READING_FUNCTIONS.has(name)) return false;
        if (name && ALIASING_FUNCTIONS.has(name)) { current = parent; continue; }
        if (ts.isPropertyAccessExpression(callee) && OUTPUT_METHODS.has(callee.name.text)) return false;
        return !isPrimitiveType(checker.getTypeAtLocation(current));
      }
      if (ts.isNewExpression(parent) && ts.isIdentifier(parent.expression) && (parent.expression.text === 'Map' || parent.expression.text === 'Set')) { current = parent; continue; }
      return !isPrimitiveType(checker.getTypeAtLocation(current));
    }
  };

  for (let i = 0; i < roots.length; i++) {
    for (const id of references.get(roots[i]) ?? []) {
      // A declaration of the root itself is not a use.
      if (ts.isVariableDeclaration(id.parent) && id.parent.name === id) continue;
      if (ts.isBindingElement(id.parent) || ts.isParameter(id.parent)) continue;
      if (useMutates(id)) return true;
    }
  }
  return false;
}
