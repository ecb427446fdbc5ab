/**
 * The PyTorch part of the pickle allow-list: storage types, dtypes and the tensor-rebuilding
 * functions that `torch.save` writes for state dicts. Tensors come out as {@link TensorRef}s that
 * point into storages; no storage bytes are read here.
 */
import { UserError } from '../core/errors.js';
import { shapeStr } from '../core/host-tensor.js';
import type { StoredDType } from './dtypes.js';
import { PickleGlobal, isTuple, type GlobalHandler, type PickleContext } from './pickle.js';

/** Storage classes (typed storages; legacy CUDA files name `torch.cuda.*Storage`). */
const STORAGE_CLASSES: Readonly<Record<string, StoredDType>> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64', LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16',
  CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
  UInt16Storage: 'uint16', UInt32Storage: 'uint32', UInt64Storage: 'uint64',
  Float8_e4m3fnStorage: 'float8_e4m3fn', Float8_e5m2Storage: 'float8_e5m2',
  Float8_e8m0fnuStorage: 'float8_e8m0fnu',
  UntypedStorage: 'uint8',
};

/** `torch.<dtype>` globals (used by `_rebuild_tensor_v3`). */
const TORCH_DTYPES: Readonly<Record<string, StoredDType>> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16',
  float64: 'float64', double: 'float64', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32',
  int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
  uint16: 'uint16', uint32: 'uint32', uint64: 'uint64',
  float8_e4m3fn: 'float8_e4m3fn', float8_e5m2: 'float8_e5m2', float8_e8m0fnu: 'float8_e8m0fnu',
};

/** The dtype of a storage class global, or undefined if it is not one. */
export function storageDtype(g: unknown): StoredDType | undefined {
  if (!(g instanceof PickleGlobal)) return undefined;
  if (g.module !== 'torch' && g.module !== 'torch.cuda') return undefined;
  return Object.hasOwn(STORAGE_CLASSES, g.name) ? STORAGE_CLASSES[g.name] : undefined; // own keys only ('constructor' is no storage)
}

/** The dtype named by a `torch.<dtype>` global, or undefined. */
export function torchDtype(g: unknown): StoredDType | undefined {
  return g instanceof PickleGlobal && g.module === 'torch' && Object.hasOwn(TORCH_DTYPES, g.name) ? TORCH_DTYPES[g.name] : undefined;
}

/** A storage in the file: raw bytes under `key`, `numel` elements of `dtype`. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: StoredDType,
    /** Elements of `dtype` (bytes for untyped storages). */
    readonly numel: number,
    readonly location: string,
    /** Element offset into the storage named `key` (legacy storage views), usually 0. */
    readonly viewOffset = 0,
    /** True for `torch.UntypedStorage` (bytes; the tensor carries the dtype). */
    readonly untyped = false,
  ) {}
}

/** A tensor as described by the pickle: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    /** Offset in elements of `dtype`. */
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly dtype: StoredDType,
  ) {}
}

/** Most dimensions of a tensor (PyTorch's own bound is 64). */
const MAX_RANK = 64;

function intList(v: unknown, what: string, ctx: PickleContext): number[] {
  if (Array.isArray(v) && v.length > MAX_RANK) throw new UserError(`${ctx.where}: tensor ${what} of ${v.length} dimensions (at most ${MAX_RANK})`);
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new UserError(`${ctx.where}: tensor ${what} must be non-negative integers`);
  }
  return [...(v as number[])];
}

function rebuild(storage: unknown, offset: unknown, size: unknown, stride: unknown, dtype: StoredDType | undefined,
  ctx: PickleContext): TensorRef {
  if (!(storage instanceof StorageRef)) throw new UserError(`${ctx.where}: tensor without a storage`);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new UserError(`${ctx.where}: bad storage offset`);
  const shape = intList(size, 'size', ctx);
  const strides = intList(stride, 'stride', ctx);
  if (strides.length !== shape.length) {
    throw new UserError(`${ctx.where}: tensor size ${shapeStr(shape)} and stride ${shapeStr(strides)} differ in rank`);
  }
  const dt = dtype ?? storage.dtype;
  if (!storage.untyped && dt !== storage.dtype) {
    throw new UserError(`${ctx.where}: tensor dtype ${dt} does not match its ${storage.dtype} storage`);
  }
  return new TensorRef(storage, offset as number, shape, strides, dt);
}

/** `torch.*` globals a state dict may call, with the data they build. */
export const TORCH_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  ['torch._utils._rebuild_tensor_v2', (a, ctx) => rebuild(a[0], a[1], a[2], a[3], undefined, ctx)],
  ['torch._utils._rebuild_tensor', (a, ctx) => rebuild(a[0], a[1], a[2], a[3], undefined, ctx)],
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])
  ['torch._utils._rebuild_tensor_v3', (a, ctx) => {
    const dt = torchDtype(a[6]);
    if (!dt) throw new UserError(`${ctx.where}: _rebuild_tensor_v3 with an unknown dtype`);
    return rebuild(a[0], a[1], a[2], a[3], dt, ctx);
  }],
  ['torch._utils._rebuild_parameter', (a) => a[0]],
  ['torch._utils._rebuild_parameter_with_state', (a) => a[0]],
  ['torch.Size', (a, ctx) => {
    if (!Array.isArray(a[0])) return Object.freeze([]);
    ctx.charge(a[0].length);
    return Object.freeze([...(a[0] as unknown[])]);
  }],
  // torch.device('cuda', 0): only strings and numbers (never String() of nested file data).
  ['torch.device', (a, ctx) => {
    if (a.length > 2 || !a.every((x) => typeof x === 'string' || typeof x === 'number')) throw new UserError(`${ctx.where}: malformed torch.device`);
    return a.map((x) => String(x).slice(0, 64)).join(':');
  }],
]);

/**
 * `torch._tensor._rebuild_from_type_v2(func, type, args, state)`: rebuilds a tensor (or a
 * Parameter) through `func`, which must itself be on the allow-list.
 */
export function withRebuildFromType(globals: Map<string, GlobalHandler>): Map<string, GlobalHandler> {
  globals.set('torch._tensor._rebuild_from_type_v2', (a, ctx) => {
    const [fn, , args] = a;
    if (!(fn instanceof PickleGlobal)) throw new UserError(`${ctx.where}: _rebuild_from_type_v2 without a function`);
    const h = globals.get(fn.qualname);
    if (!h || fn.qualname === 'torch._tensor._rebuild_from_type_v2') {
      throw new UserError(`${ctx.where}: refusing to call ${fn.qualname}: not an allowed global in a weights file (the pickle may be malicious; nothing was executed)`);
    }
    if (!isTuple(args) && !Array.isArray(args)) throw new UserError(`${ctx.where}: _rebuild_from_type_v2 arguments are not a tuple`);
    return h(args as unknown[], ctx);
  });
  return globals;
}

/** All globals for reading a PyTorch checkpoint. */
export function torchGlobals(): Map<string, GlobalHandler> {
  return withRebuildFromType(new Map(TORCH_GLOBALS));
}

/** Bytes a tensor's storage must hold, from its view: (offset + extent) elements. */
export function requiredElements(t: TensorRef): number {
  if (t.shape.some((d) => d === 0)) return 0;
  let last = t.offset;
  for (let i = 0; i < t.shape.length; i++) last += (t.shape[i] - 1) * t.stride[i];
  return last + 1;
}
