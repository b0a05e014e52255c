/**
 * Writes terraform/stage-settings.json from shared/pipeline/stage-settings.ts (the one settings table): `npm run
 * gen:stage-settings`. test/deploy/stage-settings.test.ts checks the committed file equals what this writes.
 */
import { writeFileSync } from 'node:fs';
import { terraformSettings } from '../shared/pipeline/stage-settings.js';

export const STAGE_SETTINGS_JSON = new URL('../terraform/stage-settings.json', import.meta.url);

export function stageSettingsJson(): string {
  return `${JSON.stringify(terraformSettings(), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(STAGE_SETTINGS_JSON, stageSettingsJson());
  process.stdout.write('wrote terraform/stage-settings.json\n');
}
