import test from 'ava';
import { readFileSync } from 'node:fs';
import { STAGE_SETTINGS_JSON, stageSettingsJson } from '../../scripts/gen-stage-settings.js';

/** terraform reads the settings table from terraform/stage-settings.json: it must be what the code derives. */
test('terraform/stage-settings.json is generated from shared/pipeline/stage-settings.ts', (t) => {
  t.is(readFileSync(STAGE_SETTINGS_JSON, 'utf8'), stageSettingsJson(), 'run npm run gen:stage-settings');
});
