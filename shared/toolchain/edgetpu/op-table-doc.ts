import { fileURLToPath } from 'node:url';
import { ACTIVATION_RULES, CHIP_NARROW_BYTES, LARGEST_KNOWN_COMPILED_PER_TILE } from './activations.js';
import { LIMITS } from './limits.js';
import { NARROW_BYTES_PER_TILE, TILES } from './memory.js';
import { CPU_ONLY_ALTERNATIVES, OP_TABLE } from './op-table.js';
import { CUSTOM_OPS, OPS } from '../ops/catalog.js';
import type { OpRule, OpSpec } from '../ops/types.js';
import { ALL_STATUSES, COMPILER_VERSION, DEFAULT_MIN_RUNTIME } from './strings.js';

/** The activation-memory rules (shared/toolchain/edgetpu/activations.ts) with their evidence. */
function activationSection(): string[] {
  const out: string[] = [];
  out.push('## Activation memory (first matching rule wins)');
  out.push('');
  out.push(
    `Each of the ${TILES} tiles has ${NARROW_BYTES_PER_TILE} B of narrow (activation) memory (${CHIP_NARROW_BYTES} B in all). An op's working set is its input and output activations (channels padded to 4) spread over the ${TILES} tiles; its row band is the least it needs resident at once: the kernel-height input rows and one output row, all channels (the whole tensors for ops that move data across rows: TRANSPOSE, BATCH_MATMUL, RESHAPE/SQUEEZE/EXPAND_DIMS that change the non-1 dimensions). The compiler streams activations larger than a tile in row bands, so a large working set alone does not fail. Every verdict carries a confidence; \`memory.activations\` in compile-report.json holds the rule, the confidence and the reason.`,
  );
  out.push('');
  out.push('| Rule | Compiles | Confidence | Evidence |');
  out.push('|---|---|---|---|');
  for (const r of ACTIVATION_RULES)
    out.push(`| \`${r.rule}\` | ${r.compiles ? 'yes' : 'no'} | ${r.confidence} | ${r.evidence} |`);
  out.push('');
  out.push('Evidence behind the rules:');
  out.push('');
  out.push(
    "- Real compiled pairs (shared/models, DWN1 `used_narrow_memory_bytes_per_tile`): MobileNet v1 0.25/128 8,996; MobileNet-EdgeTPU 0.75/224 65,284; SSD MobileNet v1 segment 150,820; DeepLab v3 513×513 192,744 — never above 196,608, although DeepLab's largest op working set is 248,070 B per tile (1.26×): the compiler fills the narrow memory and streams the rest.",
  );
  out.push(
    `- Chains of spatially local ops compile far above one tile: VGG16/VGG19 224 (2.04×; Coral publishes their latency), and Coral's own compiled PoseNet/BodyPix MobileNet v1 0.75, output stride 16 (google-coral/project-posenet \`posenet_mobilenet_v1_075_721_1281_quant_decoder_edgetpu.tflite\`; google-coral/project-bodypix \`bodypix_mobilenet_v1_075_1280_720_16_quant_decoder_edgetpu.tflite\`, \`…_720_1280_…\`, \`…_1024_768_…\`), one Edge TPU subgraph with the decoder on the CPU: ${LARGEST_KNOWN_COMPILED_PER_TILE} B per tile (${(LARGEST_KNOWN_COMPILED_PER_TILE / NARROW_BYTES_PER_TILE).toFixed(2)}×) in Kiln's rebuild (shared/toolchain/verify/architectures/posenet.ts), the largest known to compile.`,
  );
  out.push(
    '- Reported "Compilation failed due to large activation tensors" (google-coral/edgetpu 439 face detector 1024×768 imported from NCHW, 449 and 512 YOLOv5s, 608 YOLOv4, 653 and 671 EfficientDet-Lite3/4) are detection models with reshape/transpose heads on the Edge TPU. Size does not decide them: YOLOv5s fails at 352 and 512 but compiles at 384 and 416 (512), and compiles at 512 once `-i` ends the Edge TPU part before the head\'s transpose/reshape (ultralytics/yolov5 PR 3630). Kiln therefore predicts a compile with confidence low for that pattern instead of refusing.',
  );
  out.push(
    '- The one refusal (`band-too-large`) is an inference from the capacity (a row band that does not fit in all tiles cannot be streamed); no real model is known to reach it, so it is reported with confidence low.',
  );
  out.push('');
  return out;
}

const cell = (xs: readonly string[] | undefined): string => (xs?.length ? xs.join(', ') : '—');

function quantCell(r: OpRule | undefined): string {
  if (!r) return '—';
  const out =
    r.output.kind === 'fixed'
      ? `fixed ${r.output.scale}/${r.output.zeroPoint}`
      : r.output.kind === 'same'
        ? 'same'
        : 'free';
  const w = r.weights
    ? `, weights in ${r.weights.input} (${r.weights.axis === null ? 'per tensor' : `axis ${r.weights.axis}`})`
    : '';
  return `v${r.version} ${out}${w}`;
}

function edgeCell(s: OpSpec): string {
  if (s.edgetpu) return `-m ${s.edgetpu.minRuntime}, v≤${s.edgetpu.maxVersion}`;
  return s.cpuAlternative ? 'CPU (alternative above)' : 'CPU';
}

/** Every op of the catalog with what each stage does with it. */
function catalogSection(): string[] {
  const out: string[] = [];
  out.push('## Every op Kiln knows (op catalog)');
  out.push('');
  out.push(
    'One row per entry of shared/toolchain/ops/catalog.ts: the fewest inputs/outputs a model must give the op, the shape rule that infers its outputs, the highest op version the interpreter runs, the int8 rule (op version written, output scale: free = calibrated, same = shared with the inputs, fixed scale/zero point; weights input and per-channel axis), Edge TPU support (lowest `-m`, highest op version), the MAC rule of the latency model, and the source ops of each front end whose converter emits it.',
  );
  out.push('');
  out.push(
    '| TFLite op | Min in/out | Shape rule | Interpreter | int8 | Edge TPU | MACs | TF GraphDef | Keras | ONNX |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const [op, s] of Object.entries(OPS)) {
    const arity = s.arity ? `${s.arity[0]}/${s.arity[1]}` : '1/1';
    const kernel = s.kernel === undefined ? '—' : `v≤${s.kernel}`;
    out.push(
      `| \`${op}\` | ${arity} | ${s.shape ?? '—'} | ${kernel} | ${quantCell(s.quant)} | ${edgeCell(s)} | ${s.macs?.rule ?? '—'} | ${cell(s.from?.tf)} | ${cell(s.from?.keras)} | ${cell(s.from?.onnx)} |`,
    );
  }
  for (const [code, s] of Object.entries(CUSTOM_OPS)) {
    const kernel = s.kernel === undefined ? '—' : `v≤${s.kernel}`;
    out.push(
      `| \`CUSTOM:${code}\` | — | — | ${kernel} | ${s.floatTail ? 'stays float (after the quantized part)' : '—'} | CPU | — | — | — | — |`,
    );
  }
  out.push('');
  return out;
}

/**
 * docs/edgetpu-ops.md, generated from the op catalog (shared/toolchain/ops/catalog.ts) through the op table: `npx tsx shared/toolchain/edgetpu/op-table-doc.ts > docs/edgetpu-ops.md`.
 * A test checks the committed page equals this text.
 */
export function opTableDoc(): string {
  const out: string[] = [];
  out.push('# Edge TPU operations (Kiln compile stage)');
  out.push('');
  out.push(
    '<!-- Generated by shared/toolchain/edgetpu/op-table-doc.ts from the op catalog (shared/toolchain/ops/catalog.ts); do not edit by hand. -->',
  );
  out.push('');
  out.push(
    `Kiln models \`edgetpu_compiler\` ${COMPILER_VERSION} (default \`-m ${DEFAULT_MIN_RUNTIME}\`). An op runs on the Edge TPU only when its runtime version is ≤ \`-m\`, its TFLite op version is ≤ the listed maximum, its parameters are compile-time constants, its activation tensors are int8/uint8 with at most 3 dimensions > 1 (the innermost three), and it meets its limitations. Everything else runs on the CPU.`,
  );
  out.push('');
  out.push('| TFLite op | Coral name | Min runtime | Max op version | Constant inputs | Limitations | Source |');
  out.push('|---|---|---|---|---|---|---|');
  for (const e of OP_TABLE) {
    const limits = e.limits.length ? e.limits.map((l) => LIMITS[l].doc).join(' ') : '—';
    const consts = e.constInputs.length ? e.constInputs.join(', ') : '—';
    out.push(`| \`${e.op}\` | ${e.coral} | ${e.minRuntime} | ${e.maxVersion} | ${consts} | ${limits} | ${e.source} |`);
  }
  out.push('');
  out.push(
    'Source tags: D documented by Google, V verified on real compiled models, O observed in compiler output, I/U inferred or weakly sourced.',
  );
  out.push('');
  out.push('## CPU-only ops and what to use instead');
  out.push('');
  out.push('| TFLite op | Instead |');
  out.push('|---|---|');
  for (const [op, alt] of Object.entries(CPU_ONLY_ALTERNATIVES)) out.push(`| \`${op}\` | ${alt} |`);
  out.push('');
  out.push(...catalogSection());
  out.push('## Operation statuses (first matching rule wins)');
  out.push('');
  for (const s of ALL_STATUSES) out.push(`- \`${s}\``);
  out.push('');
  out.push(...activationSection());
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.stdout.write(opTableDoc());
