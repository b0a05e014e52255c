import { EVENT_TYPES, fromPubsubMessage, type KilnCloudEvent } from '../../shared/pipeline/events.js';

/**
 * What the smoke test waits for: the terminal build event (docs/events.md) of one build, read from the events topic.
 * Pure; smoke.ts does the I/O.
 */
export type SmokeOutcome =
  | { status: 'succeeded'; artifacts: Record<string, string>; stageTimings: Record<string, number> }
  | { status: 'failed'; stage: string; code: string; message: string };

/** Progress line for an event of the build, or undefined for an event of another build. */
export function describeEvent(event: KilnCloudEvent, buildId: string): string | undefined {
  if (event.data.buildId !== buildId) return undefined;
  const stage = 'stage' in event.data ? ` ${String(event.data.stage)}` : '';
  return `${event.type}${stage}`;
}

/** The build's outcome if this event ends it (completed or failed), else undefined. */
export function outcomeOf(event: KilnCloudEvent, buildId: string): SmokeOutcome | undefined {
  if (event.data.buildId !== buildId) return undefined;
  if (event.type === EVENT_TYPES.completed) {
    const d = event.data as { artifacts: Record<string, string>; stageTimings: Record<string, number> };
    return { status: 'succeeded', artifacts: d.artifacts, stageTimings: d.stageTimings };
  }
  if (event.type === EVENT_TYPES.failed) {
    const d = event.data as { stage: string; error: { code: string; message: string } };
    return { status: 'failed', stage: d.stage, code: d.error.code, message: d.error.message };
  }
  return undefined;
}

/** A Pub/Sub message from the events topic as a Kiln event, or undefined for a message that is not one. */
export function eventOf(data: Uint8Array, attributes: Record<string, string>): KilnCloudEvent | undefined {
  try {
    return fromPubsubMessage(data, attributes);
  } catch {
    return undefined;
  }
}

/**
 * Folder name of a smoke upload. It is uploaded as a user uploads a folder (docs/pipeline.md): the model file, then
 * `kiln.json` last, under the temporary prefix the buckets' lifecycle rules empty (terraform).
 */
export function smokeFolderName(runId: string): string {
  const safe = runId.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60) || 'run';
  return `tiny-cnn-${safe}`;
}

/** What every successful build publishes (docs/pipeline.md): the smoke test fails a build that lacks one. */
export const SMOKE_ARTIFACTS = ['model.float.tflite', 'model.int8.tflite', 'report.json', 'report.html'] as const;

export function missingArtifacts(outcome: SmokeOutcome): string[] {
  if (outcome.status !== 'succeeded') return [];
  return SMOKE_ARTIFACTS.filter((name) => !outcome.artifacts[name]);
}
