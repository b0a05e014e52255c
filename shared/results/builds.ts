import type { Firestore } from 'firebase-admin/firestore';
import { readBuild, recentBuilds } from '../cloud/firestore-queries.js';
import type { BuildRecord } from '../pipeline/build-state.js';
import { buildVerdictOf, outcomeLine, verifySummaryOf } from '../pipeline/build-result.js';
import { STAGE_NAMES } from '../pipeline/stages.js';
import { artifactMatches, REPORT_HTML } from '../pipeline/artifacts.js';

/** One row of the results page: a build with its status, stages and links (URLs of this app). Pure view data. */
export interface BuildRow {
  modelId: string;
  buildId: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  stages: { name: string; status: string }[];
  verdict: string | null;
  headline: string | null;
  /** The verdict in one line (headline, task, worst reason), as the CLI prints it. */
  verdictLine: string | null;
  /** Status and verdict in words: "succeeded (…), but the model is NOT READY for the Edge TPU". */
  outcome: string;
  error: string | null;
  page: string;
  report: string | null;
  artifacts: { name: string; url: string }[];
}

const enc = encodeURIComponent;

export function artifactUrl(modelId: string, buildId: string, name: string): string {
  return `/artifacts/${enc(modelId)}/${enc(buildId)}/${name.split('/').map(enc).join('/')}`;
}

/** The verify stage's report.html (the first shard's when verify fanned out). */
export function reportName(r: Pick<BuildRecord, 'artifacts'>): string | null {
  const names = Object.keys(r.artifacts ?? {}).filter((n) => artifactMatches(REPORT_HTML, n));
  return names.sort()[0] ?? null;
}

export function buildRow(r: BuildRecord): BuildRow {
  const report = reportName(r);
  // verify's summary is either its own (one unit) or keyed by shard.
  const first = verifySummaryOf(r.summary);
  const verdict = buildVerdictOf(r.summary);
  return {
    modelId: r.modelId,
    buildId: r.buildId,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt ?? null,
    // The stages of the build's route: those its record lays out, in pipeline order.
    stages: STAGE_NAMES.filter((name) => r.stages?.[name] !== undefined).map((name) => ({
      name,
      status: r.stages![name]!.status,
    })),
    verdict: typeof first?.['verdict'] === 'string' ? first['verdict'] : null,
    headline: typeof first?.['headline'] === 'string' ? first['headline'] : null,
    verdictLine: verdict?.line ?? null,
    outcome: outcomeLine(r.status, verdict),
    error: r.error ? `${r.error.stage}: ${r.error.message}` : null,
    page: `/builds/${enc(r.modelId)}/${enc(r.buildId)}`,
    report: report ? artifactUrl(r.modelId, r.buildId, report) : null,
    artifacts: Object.keys(r.artifacts ?? {})
      .sort()
      .map((name) => ({ name, url: artifactUrl(r.modelId, r.buildId, name) })),
  };
}

/** The most recent builds of every model (collection group `builds`), newest first; only `status` ones when given. */
export async function listBuilds(db: Firestore, limit = 100, status?: string): Promise<BuildRow[]> {
  return (await recentBuilds(db, limit, status)).map(buildRow);
}

export async function getBuild(db: Firestore, modelId: string, buildId: string): Promise<BuildRecord | undefined> {
  return readBuild(db, modelId, buildId);
}
