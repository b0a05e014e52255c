import { ERROR_CODES, KilnError, type ErrorCode } from '../common/errors.js';
import type { BuildRecord } from './build-state.js';
import { stageTimings } from './build-state.js';
import { formatStageSplit, stageSplit, type StageSplit } from './stage-split.js';
import { formatBytes } from '../common/format-bytes.js';
import type { ErrorInfo, KilnCloudEvent } from './events.js';

/**
 * What `kiln build`, `kiln local --once` and `kiln upload --wait` print: the completion event's data in one shape,
 * `{buildId, status, artifacts: {name: uri}, summary, error?}`, whether it came from a build record (in-process) or a
 * `completed` / `failed` event (cloud).
 */
export interface BuildResult {
  buildId: string;
  modelId: string;
  status: 'succeeded' | 'failed';
  artifacts: Record<string, string>;
  summary: Record<string, unknown>;
  stageTimings?: Record<string, number>;
  /** Per stage: queue wait (hand-off, delivery, start-up) and run time (from the build record: stage-split.ts). */
  stageSplit?: Record<string, StageSplit>;
  error?: ErrorInfo & { stage: string };
}

export function resultFromEvent(event: KilnCloudEvent): BuildResult | undefined {
  const d = event.data as unknown as Record<string, unknown>;
  const base = {
    buildId: String(d['buildId']),
    modelId: String(d['modelId']),
    artifacts: (d['artifacts'] as Record<string, string>) ?? {},
  };
  if (event.type === 'dev.kiln.build.v1.completed')
    return {
      ...base,
      status: 'succeeded',
      summary: (d['summary'] as Record<string, unknown>) ?? {},
      stageTimings: d['stageTimings'] as Record<string, number>,
    };
  if (event.type === 'dev.kiln.build.v1.failed')
    return {
      ...base,
      status: 'failed',
      summary: {},
      error: { ...(d['error'] as ErrorInfo), stage: String(d['stage']) },
    };
  return undefined;
}

/** A finished in-process build; `uriOf` maps an artifact name to where it was written. */
export function resultFromRecord(record: BuildRecord, uriOf: (name: string) => string): BuildResult {
  const { finish: _finish, ...summary } = record.summary;
  return {
    buildId: record.buildId,
    modelId: record.modelId,
    status: record.status === 'succeeded' ? 'succeeded' : 'failed',
    artifacts: Object.fromEntries(Object.keys(record.artifacts).map((n) => [n, uriOf(n)])),
    summary,
    stageTimings: stageTimings(record),
    stageSplit: stageSplit(record),
    ...(record.error ? { error: record.error } : {}),
  };
}

/** The verify stage's summary (its own with one unit, the first shard's when verify fanned out), if any. */
export function verifySummaryOf(summary: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const v = summary?.['verify'];
  if (!isObj(v)) return undefined;
  if ('verdict' in v) return v;
  const first = Object.keys(v).sort()[0];
  const s = first === undefined ? undefined : v[first];
  return isObj(s) ? s : undefined;
}

/** The verdict of a finished build, as every surface shows it (CLI, --json, results page). */
export interface BuildVerdict {
  level: string;
  ready: boolean;
  /** One line: headline (task): worst reason. */
  line: string;
}

export function buildVerdictOf(summary: Record<string, unknown> | undefined): BuildVerdict | undefined {
  const v = verifySummaryOf(summary);
  if (!v || typeof v['verdict'] !== 'string') return undefined;
  const level = v['verdict'];
  const headline = typeof v['headline'] === 'string' ? v['headline'] : level;
  return {
    level,
    ready: typeof v['ready'] === 'boolean' ? v['ready'] : level !== 'bad',
    line: typeof v['line'] === 'string' ? v['line'] : headline,
  };
}

/**
 * Build status and verdict in words: a build that ran to the end "succeeded" (it made every artifact), which does not
 * mean the model is ready for the Edge TPU; this says both.
 */
export function outcomeLine(status: string, verdict: BuildVerdict | undefined): string {
  if (status !== 'succeeded' || !verdict) return status;
  if (!verdict.ready) return 'succeeded (every artifact was made), but the model is NOT READY for the Edge TPU';
  return verdict.level === 'warn'
    ? 'succeeded; the model runs on the Edge TPU, with caveats'
    : 'succeeded; the model is ready for the Edge TPU';
}

/** The `--json` form the issue fixes: buildId, status, artifacts, summary, error when failed (+ verdict when verified). */
export function resultJson(r: BuildResult): Record<string, unknown> {
  const verdict = r.status === 'succeeded' ? buildVerdictOf(r.summary) : undefined;
  return {
    buildId: r.buildId,
    status: r.status,
    ...(verdict ? { verdict: { ...verdict, outcome: outcomeLine(r.status, verdict) } } : {}),
    artifacts: r.artifacts,
    summary: r.summary,
    ...(r.error ? { error: r.error } : {}),
  };
}

/** 0 succeeded, 2 failed because of the input (a bad-input error code), 1 any other failure. */
export function exitCodeOfResult(r: BuildResult): number {
  if (r.status === 'succeeded') return 0;
  const kind = (ERROR_CODES as Record<string, string>)[r.error?.code ?? ''];
  return kind === 'bad-input' ? 2 : 1;
}

/**
 * The error a CLI command throws after printing a failed build, so the exit code says why (2: the input, 1: other).
 * Undefined for a succeeded build.
 */
export function buildFailure(r: BuildResult, hint?: string): KilnError | undefined {
  if (r.status === 'succeeded') return undefined;
  const code = r.error?.code ?? 'E_INTERNAL';
  const known: ErrorCode = code in ERROR_CODES ? (code as ErrorCode) : 'E_INTERNAL';
  return new KilnError(
    known,
    `build ${r.buildId} failed in ${r.error?.stage ?? '?'}: ${r.error?.message ?? 'unknown error'}`,
    {
      ...(hint ? { hint } : {}),
    },
  );
}

const fmtBytes = (n: unknown): string => (typeof n === 'number' ? formatBytes(n) : '?');

function compileLine(name: string, s: Record<string, unknown>): string {
  return `  compile ${name}: ${String(s['opsOnEdgeTpu'])} of ${String(s['totalOps'])} ops on the Edge TPU, on-chip ${fmtBytes(s['onChipMemoryBytes'])}, off-chip ${fmtBytes(s['offChipMemoryBytes'])}`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Human lines for one stage's summary: the headline figures of each stage, the rest as compact JSON. */
const STAGE_LINES: Record<string, (s: Record<string, unknown>) => string[]> = {
  convert: (s) => [`  convert: ${String(s['format'])} (${String(s['packaging'])}), ${String(s['totalOps'])} ops`],
  quantize: (s) => [
    `  quantize: ${String(s['status'])}, ${String(s['method'])}, io ${String(s['io'])}, ${String(s['floatOps'])} float ops left of ${String(s['totalOps'])}`,
    ...((s['warnings'] as unknown[] | undefined) ?? []).map(
      (w) => `    warning: ${typeof w === 'string' ? w : JSON.stringify(w)}`,
    ),
  ],
  verify: (s) => {
    const one = 'verdict' in s ? [s] : Object.values(s).filter(isObj);
    return one.flatMap((v, i) => [
      `  verify${one.length > 1 ? ` shard ${i}` : ''}: ${verifyLine(v)}`,
      ...((v['warnings'] as unknown[] | undefined) ?? []).map(
        (w) => `    warning: ${typeof w === 'string' ? w : JSON.stringify(w)}`,
      ),
    ]);
  },
  compile: (s) =>
    'opsOnEdgeTpu' in s
      ? [compileLine(String(s['target'] ?? 'default'), s)]
      : Object.entries(s).map(([k, v]) => compileLine(k, isObj(v) ? v : {})),
};

/** verify's summary in one line: verdict line, ops on the Edge TPU, the USB 3 latency estimate. */
export function verifyLine(v: Record<string, unknown>): string {
  const verdict = buildVerdictOf({ verify: v });
  const parts = [verdict?.line ?? 'no verdict'];
  if (typeof v['opsOnEdgeTpu'] === 'number')
    parts.push(`${String(v['opsOnEdgeTpu'])}/${String(v['totalOps'])} ops on the Edge TPU`);
  const usb3 = isObj(v['latencyMs']) ? v['latencyMs']['usb3'] : undefined;
  if (typeof usb3 === 'number') parts.push(`≈ ${usb3.toFixed(2)} ms on USB 3 (estimate)`);
  return parts.join('; ');
}

export function formatResult(r: BuildResult): string {
  const lines = [`build ${r.buildId} of ${r.modelId}: ${outcomeLine(r.status, buildVerdictOf(r.summary))}`];
  if (r.error) lines.push(`  failed in ${r.error.stage}: ${r.error.code}: ${r.error.message}`);
  for (const [stage, s] of Object.entries(r.summary)) {
    if (!isObj(s)) continue;
    const fmt = STAGE_LINES[stage];
    lines.push(...(fmt ? fmt(s) : [`  ${stage}: ${JSON.stringify(s)}`]));
  }
  if (r.stageSplit && Object.keys(r.stageSplit).length > 0)
    lines.push(`  stage queue + run times: ${formatStageSplit(r.stageSplit)}`);
  else if (r.stageTimings && Object.keys(r.stageTimings).length > 0)
    lines.push(
      `  stage wall times: ${Object.entries(r.stageTimings)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
        .join(', ')}`,
    );
  const names = Object.keys(r.artifacts).sort();
  if (names.length > 0) lines.push('artifacts:', ...names.map((n) => `  ${r.artifacts[n]}`));
  return `${lines.join('\n')}\n`;
}
