/**
 * A restricted pickle interpreter, written by hand for this project.
 *
 * No JavaScript library offers a safe, restricted unpickler: the existing ones either implement
 * only a few opcodes or resolve globals to arbitrary callables. This one reads the opcodes of
 * protocols 0-5 but never executes anything:
 *
 * - a global (`GLOBAL` / `STACK_GLOBAL`) is only a name, {@link PickleGlobal}; nothing is imported;
 * - calling a global (`REDUCE`, `OBJ`/`INST` with arguments, `NEWOBJ_EX`) is allowed only for the
 *   names in the caller's allow-list, whose handlers build plain data; any other call is refused
 *   with a {@link UserError} naming the global (e.g. `posix.system`, `builtins.eval`);
 * - creating an instance without calling anything (`NEWOBJ` + `BUILD`, `copyreg._reconstructor`)
 *   of an unknown class gives an inert {@link PickleObject} placeholder holding its state, so data
 *   such as an `argparse.Namespace` in a checkpoint's `args` does not stop a load;
 * - out-of-band buffers and the extension registry are refused.
 *
 * Python values map to: None → null, bool → boolean, int → number (bigint beyond 2^53),
 * float → number, str → string, bytes/bytearray → Uint8Array, list → array, tuple → frozen array
 * (see {@link isTuple}), dict → Map, set/frozenset → Set.
 */
import { UserError } from '../core/errors.js';
import { limits, overLimit } from '../core/limits.js';

/** A reference to a Python global, never resolved to code. */
export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
  /** `module.name`. */
  get qualname(): string { return `${this.module}.${this.name}`; }
}

/** An inert stand-in for an instance of a class that is not on the allow-list. */
export class PickleObject {
  /** Whatever `BUILD` set (usually the instance `__dict__` as a Map). */
  state: unknown = undefined;
  /** Items appended (`APPEND(S)`) or set (`SETITEM(S)`) on the instance, if any. */
  readonly listItems: unknown[] = [];
  readonly dictItems = new Map<unknown, unknown>();
  constructor(readonly cls: string, readonly args: readonly unknown[]) {}
}

/** Context passed to allow-listed handlers. */
export interface PickleContext {
  /** The file (and part of it) being read, for messages. */
  readonly where: string;
  /**
   * Counts `n` units of work a handler does (elements or bytes it copies) against the
   * `pickle_ops` limit, so that repeated calls on memoized data cannot copy without bound.
   */
  charge(n: number): void;
}

/** Builds the value of a call `module.name(*args)` from data, without executing Python. */
export type GlobalHandler = (args: readonly unknown[], ctx: PickleContext) => unknown;

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Allow-listed callables by `module.name`; merged over {@link BASE_GLOBALS}. */
  globals?: ReadonlyMap<string, GlobalHandler>;
  /** Resolves `PERSID` / `BINPERSID` ids; without it persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** File name (and part) for error messages. */
  where: string;
}

/** Thrown internally when the input ends inside a pickle (callers may retry with more bytes). */
export class PickleTruncated extends UserError {}

/** A tuple: a frozen array. */
export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

/** Decodes a little-endian two's-complement integer (LONG1 / LONG4) in linear time (one hex parse). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += HEX[b[i]];
  let v = BigInt(`0x${hex}`);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function parseIntText(s: string, where: string): number | bigint | boolean {
  const t = s.trim().replace(/L$/, '');
  if (t === '00') return false; // protocol-0 booleans
  if (t === '01') return true;
  if (t.length > limits().pickle_int_bytes) throw overLimit('pickle_int_bytes', `${where}: a text integer of ${t.length} digits in pickle`);
  if (!/^[-+]?\d+$/.test(t)) throw new UserError(`${where}: malformed integer '${s.slice(0, 40)}' in pickle`);
  const v = BigInt(t);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseFloatText(s: string, where: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  const v = Number(t);
  if (t === '' || Number.isNaN(v)) throw new UserError(`${where}: malformed float '${s}' in pickle`);
  return v;
}

/** Python string literal as written by protocol-0 `STRING` (repr of a str). */
function parseStringLiteral(s: string, where: string): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) {
    throw new UserError(`${where}: malformed string literal in pickle`);
  }
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[\\'"nrt])/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e;
  });
}

/** `raw-unicode-escape` decoding of protocol-0 `UNICODE` (the line was read as latin-1). */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a?: string, b?: string) =>
    String.fromCodePoint(parseInt((a ?? b)!, 16)));
}

/**
 * A short description of a value read from a pickle, for messages: strings and numbers as
 * themselves (cut at 60 characters), anything else by kind. Never String() of nested file data,
 * which can recurse without bound.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return v.length > 60 ? `${v.slice(0, 60)}…` : v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (v instanceof PickleGlobal) return v.qualname;
  if (Array.isArray(v)) return `a ${Object.isFrozen(v) ? 'tuple' : 'list'} of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return `a ${(v as object).constructor?.name ?? 'value'}`;
}

/** Python 2 module names that protocols 0-2 write (pickle's compat mapping). */
const PY2_MODULES: Readonly<Record<string, string>> = {
  __builtin__: 'builtins', copy_reg: 'copyreg', exceptions: 'builtins',
};

function global(module: string, name: string): PickleGlobal {
  return new PickleGlobal(Object.hasOwn(PY2_MODULES, module) ? PY2_MODULES[module] : module, name);
}

/** ISO-8859-1 decoding (WHATWG's 'latin1' label is windows-1252, which differs in 0x80-0x9f). */
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeStr(bytes: Uint8Array): string {
  try { return utf8.decode(bytes); } catch { return latin1(bytes); }
}

/** Numpy dtype strings whose scalars are decoded from bytes (others stay placeholders). */
function numpyScalar(dtype: unknown, data: unknown): unknown {
  if (!(dtype instanceof PickleObject) || !(data instanceof Uint8Array)) return undefined;
  const code = dtype.args[0];
  if (typeof code !== 'string') return undefined;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const readers: Record<string, [number, () => number | bigint | boolean]> = {
    f8: [8, () => dv.getFloat64(0, true)], f4: [4, () => dv.getFloat32(0, true)],
    i8: [8, () => dv.getBigInt64(0, true)], i4: [4, () => dv.getInt32(0, true)],
    u8: [8, () => dv.getBigUint64(0, true)], u4: [4, () => dv.getUint32(0, true)],
    i2: [2, () => dv.getInt16(0, true)], u2: [2, () => dv.getUint16(0, true)],
    i1: [1, () => dv.getInt8(0)], u1: [1, () => dv.getUint8(0)], b1: [1, () => dv.getUint8(0) !== 0],
  };
  const r = readers[code];
  if (!r || data.byteLength !== r[0]) return undefined;
  const v = r[1]();
  return typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** bytes(...) / bytearray(...) from bytes, or from (str, 'latin-1') as protocols 0-2 write them. */
function toBytes(args: readonly unknown[], ctx: PickleContext): Uint8Array {
  const [v, enc] = args;
  if (v instanceof Uint8Array || typeof v === 'string') ctx.charge(v.length);
  if (v instanceof Uint8Array) return v.slice();
  if (typeof v === 'string') {
    return enc === 'latin-1' || enc === 'latin1' ? Uint8Array.from(v, (c) => c.charCodeAt(0) & 0xff) : new TextEncoder().encode(v);
  }
  return new Uint8Array();
}

/** set(list) / frozenset(list), charged per element. */
function setOf(v: unknown, ctx: PickleContext): Set<unknown> {
  if (!Array.isArray(v)) return new Set();
  ctx.charge(v.length);
  return new Set(v);
}

/** Placeholder for a call on the allow-list that only describes data (e.g. numpy dtypes). */
function placeholderOf(cls: string): GlobalHandler {
  return (args) => new PickleObject(cls, args);
}

/** Data-building callables every pickle may use. */
export const BASE_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  ['collections.OrderedDict', (args, ctx) => {
    const m = new Map<unknown, unknown>();
    const init = args[0];
    if (init instanceof Map || Array.isArray(init)) ctx.charge(init instanceof Map ? init.size : init.length);
    if (init instanceof Map) for (const [k, v] of init) m.set(k, v);
    else if (Array.isArray(init)) {
      for (const kv of init) {
        if (!Array.isArray(kv) || kv.length !== 2) throw new UserError(`${ctx.where}: malformed OrderedDict items in pickle`);
        m.set(kv[0], kv[1]);
      }
    }
    return m;
  }],
  ['builtins.set', (args, ctx) => setOf(args[0], ctx)],
  ['builtins.frozenset', (args, ctx) => setOf(args[0], ctx)],
  ['builtins.bytearray', (args, ctx) => toBytes(args, ctx)],
  ['builtins.bytes', (args, ctx) => toBytes(args, ctx)],
  ['_codecs.encode', (args, ctx) => {
    // protocol 2 writes Python 3 bytes as _codecs.encode(str, 'latin1')
    const [s, enc] = args;
    if (typeof s !== 'string') throw new UserError(`${ctx.where}: _codecs.encode expects a string`);
    ctx.charge(s.length);
    if (enc === 'latin1' || enc === 'latin-1') return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
    return new TextEncoder().encode(s);
  }],
  ['copyreg._reconstructor', (args) => {
    const cls = describeValue(args[0]);
    const o = new PickleObject(cls, []);
    o.state = args[2] ?? undefined;
    return o;
  }],
  ['copyreg.__newobj__', (args) => {
    const cls = describeValue(args[0]);
    return new PickleObject(cls, args.slice(1));
  }],
  ['numpy.dtype', placeholderOf('numpy.dtype')],
  ['numpy.core.multiarray._reconstruct', placeholderOf('numpy.ndarray')],
  ['numpy.core.multiarray.scalar', (args) => numpyScalar(args[0], args[1]) ?? new PickleObject('numpy.scalar', args)],
  ['numpy._core.multiarray.scalar', (args) => numpyScalar(args[0], args[1]) ?? new PickleObject('numpy.scalar', args)],
  ['numpy._core.multiarray._reconstruct', placeholderOf('numpy.ndarray')],
]);

/** Bytes of one string or bytes value in a pickle. */
const MAX_VALUE_BYTES = 2 ** 28;

/** Entries of one dict, set or list: JavaScript's Map and Set hold at most 2^24 (lists get the same bound). */
const MAX_COLLECTION = 2 ** 24 - 1;

/** The result of {@link unpickle}: the object and the offset just past its STOP opcode. */
export interface UnpickleResult {
  value: unknown;
  end: number;
}

/**
 * Interprets one pickle starting at `bytes[start]`. Refuses any call outside the allow-list.
 * Throws {@link PickleTruncated} if the input ends before STOP.
 */
export function unpickle(bytes: Uint8Array, start: number, opts: UnpickleOptions): UnpickleResult {
  const where = opts.where;
  let ops = 0;
  const lim = limits();
  const ctx: PickleContext = {
    where,
    charge(n: number): void {
      ops += n;
      if (ops > lim.pickle_ops) throw overLimit('pickle_ops', `${where}: pickle runs more than ${lim.pickle_ops} opcodes (counting the data its calls copy)`);
    },
  };
  const handlers = new Map<string, GlobalHandler>(BASE_GLOBALS);
  for (const [k, v] of opts.globals ?? []) handlers.set(k, v);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const bad = (msg: string): never => { throw new UserError(`${where}: malformed pickle at byte ${pos}: ${msg}`); };
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new PickleTruncated(`${where}: pickle data ends early (truncated file?)`);
  };
  const u8 = (): number => { need(1); return bytes[pos++]; };
  const u16 = (): number => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const i32 = (): number => { need(4); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) throw new PickleTruncated(`${where}: pickle length ${v} runs past the data (truncated file?)`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    // One string or bytes value of 256 MiB or more is no state dict's; JavaScript strings end near 512 MiB.
    if (n >= MAX_VALUE_BYTES) bad(`a ${n}-byte string or bytes value`);
    need(n);
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) throw new PickleTruncated(`${where}: pickle data ends early (truncated file?)`);
    const s = latin1(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) bad('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) bad('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return bad('no MARK on the stack');
    return stack.splice(m);
  };
  const memoPut = (i: number): void => {
    if (memo.size >= lim.pickle_memo && !memo.has(i)) throw overLimit('pickle_memo', `${where}: pickle memoizes more than ${lim.pickle_memo} values`);
    memo.set(i, top());
  };
  const memoKey = (text: string): number => {
    if (!/^\d{1,10}$/.test(text)) bad(`memo key '${text.slice(0, 20)}' is not a number`);
    return Number(text);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) bad(`memo key ${i} was never stored`);
    return memo.get(i);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PickleGlobal)) return bad('call of a value that is not a global');
    if (!Array.isArray(args)) return bad(`arguments of ${fn.qualname} are not a tuple`);
    const h = handlers.get(fn.qualname);
    if (!h) {
      throw new UserError(`${where}: refusing to call ${fn.qualname}: not an allowed global in a weights file (the pickle may be malicious; nothing was executed)`);
    }
    return h(args, ctx);
  };
  const newInstance = (cls: unknown, args: readonly unknown[]): unknown => {
    const name = cls instanceof PickleGlobal ? cls.qualname : bad('NEWOBJ of a value that is not a class');
    // Allow-listed classes build their value; any other class becomes an inert placeholder.
    const h = handlers.get(name);
    return h ? h(args, ctx) : new PickleObject(name, args);
  };
  const setItems = (target: unknown, kv: unknown[]): void => {
    if (kv.length % 2) bad('odd number of items for SETITEMS');
    const m = target instanceof Map ? target : target instanceof PickleObject ? target.dictItems : bad('SETITEM on a non-dict');
    if (m.size + kv.length / 2 > MAX_COLLECTION) bad(`a dict of more than ${MAX_COLLECTION} entries`);
    for (let i = 0; i < kv.length; i += 2) m.set(kv[i], kv[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    const list = Array.isArray(target) && !Object.isFrozen(target) ? target
      : target instanceof PickleObject ? target.listItems : undefined;
    if (list) {
      if (list.length + items.length > MAX_COLLECTION) bad(`a list of more than ${MAX_COLLECTION} entries`);
      for (const x of items) list.push(x); // not push(...items): a long MARK run would overflow the call stack
    } else if (target instanceof Set) {
      if (target.size + items.length > MAX_COLLECTION) bad(`a set of more than ${MAX_COLLECTION} entries`);
      for (const x of items) target.add(x);
    } else {
      bad('APPEND on a non-list');
    }
  };

  for (;;) {
    if (++ops > lim.pickle_ops) throw overLimit('pickle_ops', `${where}: pickle runs more than ${lim.pickle_ops} opcodes`);
    const op = u8();
    switch (op) {
      case 0x80: { const p = u8(); if (p > 5) bad(`unsupported pickle protocol ${p}`); break; } // PROTO
      case 0x95: u64(); break; // FRAME (length only; data follows inline)
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length) bad('stack not empty at STOP');
        return { value: stack[0], end: pos };
      }
      case 0x28: // MARK
        if (marks.length >= lim.pickle_marks) throw overLimit('pickle_marks', `${where}: pickle nests more than ${lim.pickle_marks} MARKs`);
        marks.push(stack.length);
        break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      // --- scalars
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) bad('negative LONG4 length');
        if (n > lim.pickle_int_bytes) throw overLimit('pickle_int_bytes', `${where}: a pickled integer of ${n} bytes`);
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x49: stack.push(parseIntText(line(), where)); break; // INT
      case 0x4c: { const v = parseIntText(line(), where); stack.push(v); break; } // LONG
      case 0x47: { need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big endian)
      case 0x46: stack.push(parseFloatText(line(), where)); break; // FLOAT
      // --- strings and bytes
      case 0x58: stack.push(decodeStr(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(decodeStr(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(decodeStr(take(u64()))); break; // BINUNICODE8
      case 0x56: stack.push(rawUnicodeEscape(line())); break; // UNICODE
      case 0x55: stack.push(decodeStr(take(u8()))); break; // SHORT_BINSTRING (py2 str)
      case 0x54: { const n = i32(); if (n < 0) bad('negative BINSTRING length'); stack.push(decodeStr(take(n))); break; }
      case 0x53: stack.push(parseStringLiteral(line(), where)); break; // STRING
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x97: case 0x98: bad('out-of-band buffers are not supported'); break; // NEXT_BUFFER, READONLY_BUFFER
      // --- containers
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; }
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const kv = popMark(); const m = new Map(); setItems(m, kv); stack.push(m); break; } // DICT
      case 0x91: { const items = popMark(); if (items.length > MAX_COLLECTION) bad('a frozenset too large'); stack.push(new Set(items)); break; } // FROZENSET
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x90: { const items = popMark(); appendItems(top(), items); break; } // ADDITEMS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      // --- memo
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x70: memoPut(memoKey(line())); break; // PUT
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x67: stack.push(memoGet(memoKey(line()))); break; // GET
      // --- globals, calls, objects
      case 0x63: { const mod = line(); const name = line(); stack.push(global(mod, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(); const mod = pop();
        if (typeof mod !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL needs two strings');
        stack.push(global(mod as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop(); const cls = pop();
        if (!Array.isArray(args)) bad('NEWOBJ arguments are not a tuple');
        stack.push(newInstance(cls, args as unknown[]));
        break;
      }
      case 0x92: { // NEWOBJ_EX: keyword arguments are a call with data we cannot vouch for
        const kwargs = pop(); const args = pop(); const cls = pop();
        if (!Array.isArray(args)) bad('NEWOBJ_EX arguments are not a tuple');
        if (kwargs instanceof Map && kwargs.size > 0) {
          call(cls, args); // refused unless allow-listed
        }
        stack.push(newInstance(cls, args as unknown[]));
        break;
      }
      case 0x6f: { // OBJ: cls(*args) — a call unless there are no arguments
        const items = popMark();
        const cls = items.shift();
        stack.push(items.length ? call(cls, tuple(items)) : newInstance(cls, []));
        break;
      }
      case 0x69: { // INST
        const mod = line(); const name = line();
        const items = popMark();
        const cls = global(mod, name);
        stack.push(items.length ? call(cls, tuple(items)) : newInstance(cls, []));
        break;
      }
      case 0x62: { // BUILD: setstate, never calls __setstate__
        const state = pop();
        const obj = top();
        if (obj instanceof PickleObject) obj.state = state;
        // dicts (OrderedDict with `_metadata`), tensors and other allow-listed values keep
        // their data; the extra attribute state is ignored.
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) bad('persistent id without a loader');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x50: { // PERSID
        const pid = line();
        if (!opts.persistentLoad) bad('persistent id without a loader');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x82: case 0x83: case 0x84: bad('the copyreg extension registry (EXT1/2/4) is not supported'); break;
      default: bad(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
    if (marks.length && marks[marks.length - 1] > stack.length) bad('MARK consumed');
    if (stack.length > lim.pickle_stack) throw overLimit('pickle_stack', `${where}: pickle stack holds more than ${lim.pickle_stack} values`);
  }
}
