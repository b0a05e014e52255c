/**
 * Writes the stage section of docs/pipeline.md (between the `stages:begin` / `stages:end` markers) from the stage
 * table, shared/pipeline/stages.ts: `npm run gen:pipeline-doc`. test/pipeline/pipeline-doc.test.ts checks the committed
 * doc equals what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { EVENT_TYPES } from '../shared/pipeline/events.js';
import { firstStage, nextStage, ROUTE_RULES, ROUTES, STAGES, type StageSpec } from '../shared/pipeline/stages.js';
import { formatDuration } from '../shared/pipeline/stage-settings.js';

export const PIPELINE_DOC = new URL('../docs/pipeline.md', import.meta.url);
export const BEGIN = '<!-- stages:begin: generated from shared/pipeline/stages.ts by `npm run gen:pipeline-doc` -->';
export const END = '<!-- stages:end -->';

const code = (s: string) => `\`${s}\``;
const list = (xs: readonly string[]) => (xs.length ? xs.map(code).join(', ') : '—');
const event = (kind: keyof typeof EVENT_TYPES) => code(EVENT_TYPES[kind].replace('dev.kiln.build.v1.', ''));

function then(spec: StageSpec): string {
  if (spec.onComplete === 'complete-build')
    return `${event('stageSucceeded')}; the build succeeds; ${event('completed')}`;
  // The next stage per route; one name when every route of the stage goes on to the same stage.
  const next = spec.routes.map((r) => nextStage(spec.name, r));
  const same = next.every((n) => n === next[0]);
  const named =
    same && (spec.routes.length > 1 || (ROUTES as readonly string[]).length === 1)
      ? [next[0]]
      : next.map((n, i) => `${n} (${spec.routes[i]})`);
  return `${event('stageSucceeded')}; the messages of ${named.join(', ')}`;
}

function row(spec: StageSpec): string {
  const core = spec.core ? 'its core' : 'bookkeeping (no core)';
  const cells = [
    code(spec.name),
    spec.title,
    spec.routes.join(', '),
    list(spec.reads),
    list(spec.writes),
    spec.fanOut,
    core,
    then(spec),
    formatDuration(spec.settings.deadlineS * 1000),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The generated section (markers included). */
export function stageSection(): string {
  const routes = ROUTE_RULES.map((r) => `${r.when} → ${r.route}`);
  const first = ROUTES.map((r) => `${r}: ${firstStage(r)}`);
  return [
    BEGIN,
    '',
    `Ingest decides the build's route from its upload (${routes.join('; ')}), creates the build record with the`,
    `route's stages, publishes ${event('started')} and the first stage's messages (${first.join('; ')}). Every stage`,
    `then publishes ${event('stageSucceeded')} when its last unit succeeds (fan-in), or ${event('stageFailed')} and`,
    `${event('failed')} when a unit fails the build.`,
    '',
    '| stage | does | routes | reads | writes | units | work | when it completes | deadline |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...STAGES.map(row),
    '',
    'Reads name artifacts of earlier stages (a name also matches it under a unit folder, `m13/compile-report.json`;',
    '`calibration/` is every file of that data folder); `upload/` is the upload itself. A core is given only what its',
    'row reads. Writes of a fanned-out stage land under `<unit key>/`.',
    '',
    END,
  ].join('\n');
}

/** `doc` with its stage section replaced by the generated one. */
export function withStageSection(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/pipeline.md has no ${BEGIN} … ${END} section`);
  return doc.slice(0, a) + stageSection() + doc.slice(b + END.length);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(PIPELINE_DOC, withStageSection(readFileSync(PIPELINE_DOC, 'utf8')));
  process.stdout.write('wrote the stage section of docs/pipeline.md\n');
}
