/**
 * Parameter declarations. Modules declare their parameters at construction through a `Scope`, under
 * PyTorch-style dotted names and PyTorch layouts; engines resolve a `ParamRef` to their own
 * representation. The set of declarations is what checkpoints are validated against.
 */
import { shapeStr } from './host-tensor.js';
import { limits, overLimit } from './limits.js';

/** How a parameter is initialised when no checkpoint provides it. */
export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'const'; value: number }
  | { kind: 'truncNormal'; std: number }
  | { kind: 'normal'; std: number }
  /** Kaiming-uniform as PyTorch's default for conv/linear (a = sqrt(5)), or its bias rule. */
  | { kind: 'torchDefault'; fanIn: number; bias: boolean };

/** What role a parameter plays; the optimiser uses it for weight-decay exclusions. */
export type ParamRole = 'weight' | 'bias' | 'norm' | 'layerScale' | 'buffer';

/** A declared parameter. */
export interface ParamRef {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
  readonly role: ParamRole;
}

/**
 * Collects parameter declarations of a model; names must be unique. A declaration larger than the
 * `tensor_elements` limit (a config with absurd channel counts), or one that takes the model past
 * `model_parameters` (absurd layer counts), is refused before anything is allocated.
 */
export class ParamRegistry {
  private readonly refs = new Map<string, ParamRef>();
  private elements = 0;

  declare(ref: ParamRef): ParamRef {
    const prev = this.refs.get(ref.name);
    if (prev) {
      throw new Error(`parameter ${ref.name} declared twice (${shapeStr(prev.shape)}, ${shapeStr(ref.shape)})`);
    }
    const n = ref.shape.reduce((a, b) => a * b, 1);
    if (!(n <= limits().tensor_elements)) {
      throw overLimit('tensor_elements', `the config makes parameter ${ref.name} of shape ${shapeStr(ref.shape)} (${n.toExponential(2)} elements); check its channel and class counts`);
    }
    this.elements += n;
    if (!(this.elements <= limits().model_parameters)) {
      throw overLimit('model_parameters', `the config makes a model of more than ${this.elements.toExponential(2)} parameters (at ${ref.name}); check its depths, channel and layer counts`);
    }
    this.refs.set(ref.name, ref);
    return ref;
  }

  get(name: string): ParamRef | undefined {
    return this.refs.get(name);
  }

  /** All declarations in declaration order. */
  all(): ParamRef[] {
    return [...this.refs.values()];
  }

  get size(): number {
    return this.refs.size;
  }
}

/** A naming scope: `scope.child('stages').child(0).param('weight', …)` declares `stages.0.weight`. */
export class Scope {
  constructor(
    readonly registry: ParamRegistry,
    readonly prefix: string = '',
  ) {}

  static root(): Scope {
    return new Scope(new ParamRegistry());
  }

  child(name: string | number): Scope {
    return new Scope(this.registry, this.join(String(name)));
  }

  /** Declares a parameter under this scope. */
  param(name: string, shape: readonly number[], init: Init, role: ParamRole = 'weight'): ParamRef {
    return this.registry.declare({ name: this.join(name), shape: [...shape], init, role });
  }

  private join(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }
}
