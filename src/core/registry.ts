/**
 * Component registries: one per component kind (neck, decode head, …), each mapping a config's literal `type`
 * to its entry: the zod schema of its options, how to build it from the upstream component's
 * feature spec, and (optionally) the spec it will emit, for checks at parse time. A registry's
 * schema parses any registered type, so a config naming an unknown type or a typo in an option
 * fails at parse time with its path. Entries registered later (a user's own component) are
 * parsed and built exactly like the shipped ones.
 */
import { z } from 'zod';
import type { FeatureSpec } from './feature-spec.js';
import type { HostTensor } from './host-tensor.js';
import type { Scope } from './params.js';

/** A parsed component config: its `type` and its own options. */
export interface ComponentConfig {
  readonly type: string;
}

/** A problem with a component's options, at a path inside its config. */
export interface ComponentIssue {
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

/**
 * One registered component type. `O` is its parsed config, `C` the component it builds, `X` what
 * the model passes besides the upstream spec (a decode head's class count).
 */
export interface ComponentEntry<O extends ComponentConfig, C, X = void> {
  readonly type: O['type'];
  /** Schema of the config: `type: z.literal(type)`, strict, defaults filled in. */
  readonly schema: z.ZodType<O>;
  /** The component under `scope` (parameter names below it), reading its input levels from `upstream`. */
  build(scope: Scope, upstream: readonly FeatureSpec[], options: O, context: X): C;
  /** Problems with these options on this upstream (cross-component rules), checked after parsing. */
  check?(upstream: readonly FeatureSpec[], options: O): ComponentIssue[];
  /** The levels the component will emit for these options, known without building it (parse-time checks downstream). */
  outSpecs?(upstream: readonly FeatureSpec[], options: O): FeatureSpec[];
  /**
   * Checkpoint key rules, by checkpoint source: the parameter name inside this component (as
   * mmdetection / mmsegmentation name it, which need no rules) of a key inside the source's
   * counterpart, or null when the key is not this component's.
   */
  readonly keys?: Readonly<Record<string, (key: string) => string | null>>;
  /**
   * Brings a checkpoint tensor under one of this component's parameter names (`name` is the
   * parameter name, possibly under a model prefix) to the shape the component declares, when a
   * source stores it in another shape of the same size (a 1×1 conv kept as a Linear); else `t`.
   */
  shape?(name: string, t: HostTensor): HostTensor;
}

/** A component config as written: its `type` and options (each entry's schema checks the rest). */
export type ComponentInput = { type: string } & Record<string, unknown>;

/** A component config as written where its kind has a default type: `type` may be left out. */
export type DefaultTypedInput = { type?: string } & Record<string, unknown>;

/** The config of a component of a registry, as parsed (its own options are known to its entry). */
export type RegisteredConfig<O extends ComponentConfig = ComponentConfig> = O & Record<string, unknown>;

/**
 * The types of one component kind. `O` is what every config of the kind has (at least `type`),
 * `C` the built component, `X` the build context.
 */
export class Registry<C, X = void, O extends ComponentConfig = ComponentConfig> {
  private readonly entries = new Map<string, ComponentEntry<O, C, X>>();

  /** `kind` names the component kind in messages ("neck"). */
  constructor(readonly kind: string) {}

  /** Adds a type; a type registered twice is an error. Returns the entry. */
  register<P extends O>(entry: ComponentEntry<P, C, X>): ComponentEntry<P, C, X> {
    if (this.entries.has(entry.type)) throw new Error(`${this.kind} type '${entry.type}' is registered already`);
    // Stored under the kind's common config: the registry only hands an entry configs its own schema parsed.
    this.entries.set(entry.type, entry as unknown as ComponentEntry<O, C, X>);
    return entry;
  }

  /** Registered type names, sorted. */
  types(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The entry of `type`, or an error naming the registered ones. */
  get(type: string): ComponentEntry<O, C, X> {
    const e = this.entries.get(type);
    if (!e) throw new Error(`unknown ${this.kind} type '${type}' (registered: ${this.types().join(', ')})`);
    return e;
  }

  /**
   * Schema of any registered type's config: an unknown `type` is an issue at `type`; otherwise the
   * entry's schema parses it, its issues at their own paths. Evaluated at parse time, so it sees
   * entries registered after it was made. With `defaultType`, a config without `type` is that type's.
   */
  schema(): z.ZodType<RegisteredConfig<O>, ComponentInput>;
  schema(opts: { defaultType: string }): z.ZodType<RegisteredConfig<O>, DefaultTypedInput>;
  schema(opts: { defaultType?: string } = {}): z.ZodType<RegisteredConfig<O>, ComponentInput | DefaultTypedInput> {
    const parse = z.unknown().transform((input, ctx): RegisteredConfig<O> => {
      const value = opts.defaultType !== undefined && typeof input === 'object' && input !== null && !Array.isArray(input) && !('type' in input)
        ? { type: opts.defaultType, ...input } : input;
      const expected = this.types().map((t) => `'${t}'`).join(', ');
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        ctx.issues.push({ code: 'custom', path: [], message: `expected a ${this.kind} config object with a type (one of ${expected})`, input: value });
        return z.NEVER;
      }
      const type = (value as { type?: unknown }).type;
      const entry = typeof type === 'string' ? this.entries.get(type) : undefined;
      if (!entry) {
        const got = type === undefined ? 'no type' : `unknown type ${JSON.stringify(type)}`;
        ctx.issues.push({ code: 'custom', path: ['type'], message: `${got}: expected one of ${expected}`, input: value });
        return z.NEVER;
      }
      const r = entry.schema.safeParse(value);
      if (!r.success) {
        for (const issue of r.error.issues) ctx.issues.push({ ...issue, input: value } as (typeof ctx.issues)[number]);
        return z.NEVER;
      }
      return r.data as RegisteredConfig<O>;
    });
    // The input type says what a config module may write (an object with a string type); the
    // entry's own schema checks the rest at parse time.
    return parse as unknown as z.ZodType<RegisteredConfig<O>, ComponentInput>;
  }

  /** Builds the component of `options` (a config this registry's schema parsed); its checks must pass. */
  build(scope: Scope, upstream: readonly FeatureSpec[], options: O, context: X): C {
    const issues = this.check(upstream, options);
    if (issues.length > 0) throw new Error(`${this.kind} '${options.type}': ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    return this.get(options.type).build(scope, upstream, options, context);
  }

  /** The first registered type's key rule for `source` that recognises `key` (see {@link ComponentEntry.keys}). */
  keyRule(source: string, key: string): string | null {
    for (const e of this.entries.values()) {
      const name = e.keys?.[source]?.(key);
      if (name) return name;
    }
    return null;
  }

  /** The levels `options` will emit on `upstream`; an error when its entry does not declare them. */
  outSpecs(upstream: readonly FeatureSpec[], options: O): FeatureSpec[] {
    const e = this.get(options.type);
    if (!e.outSpecs) throw new Error(`${this.kind} type '${options.type}' does not declare its output levels`);
    return e.outSpecs(upstream, options);
  }

  /** A checkpoint tensor under parameter `name` in the shape the components declare (see {@link ComponentEntry.shape}). */
  normalizeShape(name: string, t: HostTensor): HostTensor {
    let out = t;
    for (const e of this.entries.values()) if (e.shape) out = e.shape(name, out);
    return out;
  }

  /** Cross-component problems of `options` on `upstream` (empty when none). */
  check(upstream: readonly FeatureSpec[], options: O): ComponentIssue[] {
    return this.get(options.type).check?.(upstream, options) ?? [];
  }
}
