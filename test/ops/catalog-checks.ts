import type { CustomOpSpec, FrontEnd, OpSpec } from '../../shared/toolchain/ops/types.js';

/**
 * The checks of test/ops/catalog.test.ts as pure functions of the catalog and the tables it is joined with, so that
 * the test can also show each check failing on a broken copy. Each returns the problems found, one line each.
 */

type Ops = Readonly<Record<string, OpSpec>>;
type Table = Readonly<Record<string, unknown>>;

const keys = (o: Table): string[] => Object.keys(o);

/** Every catalog op is a TFLite builtin. */
export function checkNames(ops: Ops, builtins: readonly string[]): string[] {
  const known = new Set(builtins);
  return keys(ops)
    .filter((op) => !known.has(op))
    .map((op) => `${op}: not a TFLite builtin operator`);
}

/** The kernel registry and the catalog's `kernel` name the same ops, both ways (builtin and custom). */
export function checkKernels(
  ops: Ops,
  custom: Readonly<Record<string, CustomOpSpec>>,
  builtinFns: Table,
  customFns: Table,
): string[] {
  const out: string[] = [];
  const join = (
    specs: Readonly<Record<string, { kernel?: number }>>,
    fns: Table,
    label: (k: string) => string,
  ): void => {
    for (const [op, s] of Object.entries(specs))
      if (s.kernel !== undefined && !(op in fns))
        out.push(`${label(op)}: the catalog gives kernel v${s.kernel} but the interpreter registry has no kernel`);
    for (const op of keys(fns))
      if (specs[op]?.kernel === undefined)
        out.push(`${label(op)}: the interpreter registry has a kernel but the catalog gives no \`kernel\` version`);
  };
  join(ops, builtinFns, (k) => k);
  join(custom, customFns, (k) => `CUSTOM:${k}`);
  return out;
}

/** An op has a shape rule exactly when the catalog names one, and every builtin with a rule is in the catalog. */
export function checkShapes(ops: Ops, builtins: readonly string[], hasRule: (op: string) => boolean): string[] {
  const out: string[] = [];
  for (const op of builtins) {
    const named = ops[op]?.shape;
    if (named && !hasRule(op)) out.push(`${op}: the catalog names shape rule "${named}" but shape inference has none`);
    if (!named && hasRule(op)) out.push(`${op}: shape inference has a rule but the catalog names none`);
  }
  return out;
}

/** Operand positions the stages read (weights, MAC data input) exist in every model the validator accepts. */
export function checkArity(ops: Ops): string[] {
  const out: string[] = [];
  for (const [op, s] of Object.entries(ops)) {
    const minIn = s.arity?.[0] ?? 1;
    const read: [string, number | undefined][] = [
      ['quant weights', s.quant?.weights?.input],
      ['params weights', typeof s.params === 'object' ? s.params.weights : undefined],
      ['macs weights', s.macs?.weights],
      ['macs data', s.macs?.data],
    ];
    for (const [what, i] of read)
      if (i !== undefined && i >= minIn)
        out.push(`${op}: ${what} is input ${i}, but the arity guarantees only ${minIn} inputs`);
  }
  return out;
}

/**
 * The versions agree: the interpreter runs the int8 op version the quantizer writes, the Edge TPU maps it, the
 * compiler's embedded TFLite parses it and every version the Edge TPU maps. `versionExceptions` lists known
 * disagreements (op → why), which must still be disagreements.
 */
export function checkVersions(ops: Ops, versionExceptions: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  const found = new Set<string>();
  for (const [op, s] of Object.entries(ops)) {
    const problems: string[] = [];
    const q = s.quant?.version;
    if (q !== undefined && s.kernel !== undefined && q > s.kernel)
      problems.push(`${op}: the quantizer writes v${q} but the interpreter runs up to v${s.kernel}`);
    if (q !== undefined && s.edgetpu && q > s.edgetpu.maxVersion)
      problems.push(`${op}: the quantizer writes v${q} but the Edge TPU maps up to v${s.edgetpu.maxVersion}`);
    if (q !== undefined && s.embeddedMaxVersion !== undefined && q > s.embeddedMaxVersion)
      problems.push(
        `${op}: the quantizer writes v${q} but the compiler's TFLite parses up to v${s.embeddedMaxVersion}`,
      );
    if (s.edgetpu && s.embeddedMaxVersion !== undefined && s.edgetpu.maxVersion > s.embeddedMaxVersion)
      problems.push(
        `${op}: the Edge TPU maps up to v${s.edgetpu.maxVersion} but the compiler's TFLite parses up to v${s.embeddedMaxVersion}`,
      );
    if (problems.length && op in versionExceptions) found.add(op);
    else out.push(...problems);
  }
  for (const op of keys(versionExceptions))
    if (!found.has(op)) out.push(`${op}: listed as a known version disagreement, but the catalog agrees now`);
  return out;
}

/** Ops the Edge TPU maps have an int8 rule, except the listed gaps (op → why), which must still be gaps. */
export function checkQuantCoverage(ops: Ops, gaps: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [op, s] of Object.entries(ops)) {
    const gap = Boolean(s.edgetpu) && !s.quant;
    if (gap && !(op in gaps)) out.push(`${op}: the Edge TPU maps it but the catalog gives no int8 rule (\`quant\`)`);
    if (!gap && op in gaps) out.push(`${op}: listed as an int8 gap, but it is not one any more`);
  }
  return out;
}

/** The same weights input in the int8 rule, the parameter layout and the MAC rule. */
export function checkWeights(ops: Ops): string[] {
  const out: string[] = [];
  for (const [op, s] of Object.entries(ops)) {
    const p = typeof s.params === 'object' ? s.params.weights : undefined;
    if (s.quant?.weights && s.quant.weights.input !== p)
      out.push(`${op}: int8 weights are input ${s.quant.weights.input}, the parameter layout says ${p ?? 'none'}`);
    if (s.macs && s.macs.weights !== p)
      out.push(
        `${op}: the MAC rule reads weights from input ${s.macs.weights}, the parameter layout says ${p ?? 'none'}`,
      );
  }
  return out;
}

/** Edge TPU rows: limitations exist and are all used; a mapped op has no CPU alternative. */
export function checkEdgeTpu(ops: Ops, limits: Table): string[] {
  const out: string[] = [];
  const used = new Set<string>();
  for (const [op, s] of Object.entries(ops)) {
    for (const l of s.edgetpu?.limits ?? []) {
      used.add(l);
      if (!(l in limits)) out.push(`${op}: limitation "${l}" has no check in shared/toolchain/edgetpu/limits.ts`);
    }
    if (s.edgetpu && s.cpuAlternative) out.push(`${op}: mapped to the Edge TPU and given a CPU-only alternative`);
  }
  for (const l of keys(limits)) if (!used.has(l)) out.push(`limitation "${l}": no op of the catalog uses it`);
  return out;
}

/** MAC rules named by the catalog exist, and every MAC rule is used. */
export function checkMacs(ops: Ops, rules: Table): string[] {
  const out: string[] = [];
  const used = new Set<string>();
  for (const [op, s] of Object.entries(ops)) {
    if (!s.macs) continue;
    used.add(s.macs.rule);
    if (!(s.macs.rule in rules)) out.push(`${op}: MAC rule "${s.macs.rule}" does not exist`);
  }
  for (const r of keys(rules)) if (!used.has(r)) out.push(`MAC rule "${r}": no op of the catalog uses it`);
  return out;
}

/**
 * The front ends' op tables and the catalog's `from` agree both ways: every source op the catalog names is in its
 * front end's table, and every key of a table is named by some op or listed as emitting none.
 */
export function checkFrontEnds(
  ops: Ops,
  noOp: Readonly<Record<FrontEnd, readonly string[]>>,
  tables: Readonly<Record<FrontEnd, Table>>,
): string[] {
  const out: string[] = [];
  for (const fe of Object.keys(tables) as FrontEnd[]) {
    const table = tables[fe];
    const named = new Set<string>();
    for (const [op, s] of Object.entries(ops))
      for (const src of s.from?.[fe] ?? []) {
        named.add(src);
        if (!(src in table)) out.push(`${op}: from ${fe} "${src}", which the ${fe} front end has no converter for`);
      }
    const none = new Set(noOp[fe]);
    for (const src of none) {
      if (!(src in table)) out.push(`${fe} "${src}" is listed as emitting no op, but the ${fe} front end lacks it`);
      if (named.has(src)) out.push(`${fe} "${src}" is listed as emitting no op, but an op names it in \`from\``);
    }
    for (const src of keys(table))
      if (!named.has(src) && !none.has(src))
        out.push(`${fe} "${src}": the front end converts it, but no catalog op names it in \`from.${fe}\``);
  }
  return out;
}

/** A per-op table that is not derived from the catalog holds only catalog ops. */
export function checkSubset(ops: Ops, table: Table, name: string): string[] {
  return keys(table)
    .filter((op) => !(op in ops))
    .map((op) => `${op}: in ${name} but not in the op catalog`);
}
