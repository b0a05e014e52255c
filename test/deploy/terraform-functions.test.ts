import test from 'ava';
import { FUNCTION_NAMES } from '../../functions/index.js';
import { COMPILER_ENV } from '../../shared/toolchain/edgetpu/runner.js';
import { ENV_SCHEMA } from '../../shared/pipeline/config.js';
import { EVENTS_RETENTION_SECONDS } from '../../shared/pipeline/events.js';
import { STAGE_NAMES, stageTopic } from '../../shared/pipeline/stages.js';
import { settingsOf } from '../../shared/pipeline/stage-settings.js';
import { STAGE_SETTINGS_JSON } from '../../scripts/gen-stage-settings.js';
import { readFileSync } from 'node:fs';
import { block, functionDirs, resource, terraformConfig } from './terraform-config.js';

/**
 * The KILN_* names the functions read in the cloud: ENV_SCHEMA minus the local stack's emulator ports and the two
 * overrides tests use (in the cloud each function's lease and deadline come from terraform/stage-settings.json).
 */
const LOCAL_OVERRIDES = new Set(['KILN_LEASE_MS', 'KILN_STAGE_TIMEOUT_MS']);
const CLOUD_ENV = Object.keys(ENV_SCHEMA.shape)
  .filter((k) => !k.endsWith('_PORT') && !LOCAL_OVERRIDES.has(k))
  .sort();

test('terraform lists every function in functions/ and every stage of the code', async (t) => {
  const { locals } = await terraformConfig();
  t.deepEqual([...locals['functions']].sort(), functionDirs());
  t.deepEqual([...locals['functions']].sort(), [...FUNCTION_NAMES].sort());
  t.deepEqual(locals['stages'], [...STAGE_NAMES], 'stage order as in shared/pipeline/stages.ts');
  // Every stage is a Cloud Function except compile, which runs on Cloud Run from the compiler image.
  t.deepEqual([...locals['stage_functions'], 'compile'].sort(), [...STAGE_NAMES].sort());
  t.deepEqual(
    ['ingest', ...STAGE_NAMES, ...locals['recovery_functions']].sort(),
    functionDirs(),
    'functions/ holds ingest, one function per stage and the recovery functions',
  );
});

test('the pipeline environment has exactly the variables shared/pipeline/config.ts reads', async (t) => {
  const { locals } = await terraformConfig();
  const env = locals['pipeline_env'] as Record<string, string>;
  t.deepEqual(Object.keys(env).sort(), CLOUD_ENV);
  t.is(env['KILN_PROJECT_ID'], '${var.project_id}');
  t.is(env['KILN_UPLOADS_BUCKET'], '${local.uploads_bucket}');
  t.is(env['KILN_ARTIFACTS_BUCKET'], '${local.artifacts_bucket}');
  t.is(env['KILN_STAGE_TOPIC_PREFIX'], '${local.stage_topic_prefix}');
  t.is(env['KILN_EVENTS_TOPIC'], '${local.events_topic}');
  t.is(env['KILN_UNIT_ISOLATION'], 'worker', 'deployed units run in a worker their deadline can stop');
  // The compile service adds where the real compiler is, under the name shared/toolchain/edgetpu/runner.ts reads.
  t.regex(String(locals['compile_env']), /^\$\{merge\(local\.pipeline_env, \{/);
  t.true(String(locals['compile_env']).includes(`${COMPILER_ENV} = "/usr/bin/edgetpu_compiler"`));
});

test('the buckets and topics are named the way the code names them', async (t) => {
  const config = await terraformConfig();
  t.is(resource(config, 'google_storage_bucket', 'uploads')['name'], '${local.uploads_bucket}');
  t.is(resource(config, 'google_storage_bucket', 'artifacts')['name'], '${local.artifacts_bucket}');
  const stageTopicName = resource(config, 'google_pubsub_topic', 'stage')['name'] as string;
  t.is(resource(config, 'google_pubsub_topic', 'stage')['for_each'], '${toset(local.stages)}');
  for (const stage of STAGE_NAMES) {
    const rendered = stageTopicName.replace('${local.stage_topic_prefix}', 'PREFIX').replace('${each.key}', stage);
    t.is(rendered, stageTopic('PREFIX', stage), `topic of ${stage}`);
  }
  t.is(resource(config, 'google_pubsub_topic', 'events')['name'], '${local.events_topic}');
  // late subscribers seek back up to 7 days (docs/events.md)
  t.is(resource(config, 'google_pubsub_topic', 'events')['message_retention_duration'], `${EVENTS_RETENTION_SECONDS}s`);
});

test('ingest is a gen2 function on the finalize events of the uploads bucket', async (t) => {
  const config = await terraformConfig();
  const fn = resource(config, 'google_cloudfunctions2_function', 'ingest');
  t.is(block(fn, 'build_config')['entry_point'], 'ingest');
  const trigger = block(fn, 'event_trigger');
  t.is(trigger['event_type'], 'google.cloud.storage.object.v1.finalized');
  t.deepEqual(trigger['event_filters'], [{ attribute: 'bucket', value: '${google_storage_bucket.uploads.name}' }]);
  t.is(trigger['retry_policy'], 'RETRY_POLICY_RETRY', 'a thrown error is redelivered');
  t.is(trigger['service_account_email'], '${google_service_account.kiln["invoker"].email}');
  const service = block(fn, 'service_config');
  t.is(service['environment_variables'], '${local.pipeline_env}');
  t.is(service['service_account_email'], '${google_service_account.kiln["ingest"].email}');
  t.is(service['ingress_settings'], 'ALLOW_INTERNAL_ONLY');
});

test('convert, quantize, verify and finish are gen2 functions with their own entry point and account', async (t) => {
  const config = await terraformConfig();
  const fn = resource(config, 'google_cloudfunctions2_function', 'stage');
  t.is(fn['for_each'], '${toset(local.stage_functions)}');
  t.is(block(fn, 'build_config')['entry_point'], '${each.key}');
  t.is(block(fn, 'build_config')['runtime'], '${local.functions_build.runtime}');
  t.is(config.locals['functions_build']['runtime'], 'nodejs22');
  const service = block(fn, 'service_config');
  t.is(service['environment_variables'], '${local.pipeline_env}');
  t.is(service['service_account_email'], '${google_service_account.kiln[each.key].email}');
  t.is(service['timeout_seconds'], '${local.settings.functions[each.key].timeoutS}');
  t.is(service['max_instance_request_concurrency'], 1, 'one unit of work per instance');
  t.falsy(fn['event_trigger'], 'stage functions are fed by the push subscriptions of pubsub.tf');
});

test('compile runs on Cloud Run from the compiler image with the compile target', async (t) => {
  const config = await terraformConfig();
  const run = resource(config, 'google_cloud_run_v2_service', 'compile');
  const template = block(run, 'template');
  const container = block(template, 'containers');
  t.is(container['image'], '${var.compile_image}');
  t.true((container['args'] as string[]).includes('--target=compile'));
  t.true((container['args'] as string[]).includes('--signature-type=cloudevent'));
  t.is(container['dynamic']['env'][0]['for_each'], '${local.compile_env}');
  t.is(template['service_account'], '${google_service_account.kiln["compile"].email}');
  t.is(template['timeout'], '${local.settings.functions["compile"].timeoutS}s');
  t.is(run['ingress'], 'INGRESS_TRAFFIC_INTERNAL_ONLY');
  t.true(config.resources['google_artifact_registry_repository']?.['kiln'] !== undefined);
});

test('each stage topic pushes to its own function (or the compile service), authenticated as the invoker', async (t) => {
  const config = await terraformConfig();
  const sub = resource(config, 'google_pubsub_subscription', 'stage_push');
  t.is(sub['for_each'], '${toset(local.stages)}');
  t.is(sub['topic'], '${google_pubsub_topic.stage[each.key].id}');
  const push = block(sub, 'push_config');
  // The path the functions framework takes the topic from, as on the local stack (topology.ts pushEndpoint).
  t.is(
    push['push_endpoint'],
    '${local.stage_urls[each.key]}/projects/${var.project_id}/topics/${google_pubsub_topic.stage[each.key].name}',
  );
  t.is(block(push, 'oidc_token')['service_account_email'], '${google_service_account.kiln["invoker"].email}');
  t.is(sub['ack_deadline_seconds'], '${local.settings.functions[each.key].ackDeadlineS}');
  const urls = String(config.locals['stage_urls']);
  t.true(urls.includes('google_cloudfunctions2_function.stage'));
  t.true(urls.includes('compile = google_cloud_run_v2_service.compile.uri'));
});

test('every size, timeout and retry setting comes from the one settings table', async (t) => {
  const config = await terraformConfig();
  t.is(config.locals['settings'], '${jsondecode(file("${path.module}/stage-settings.json"))}');
  const table = JSON.parse(readFileSync(STAGE_SETTINGS_JSON, 'utf8')) as {
    sweepPeriodS: number;
    functions: Record<string, unknown>;
  };
  t.deepEqual(Object.keys(table.functions).sort(), [...FUNCTION_NAMES].sort(), 'a row for every function');
  const ingest = block(resource(config, 'google_cloudfunctions2_function', 'ingest'), 'service_config');
  t.is(ingest['timeout_seconds'], '${local.settings.functions["ingest"].timeoutS}');
  t.is(ingest['available_memory'], '${local.settings.functions["ingest"].memory}');
  for (const name of ['stage', 'recovery']) {
    const service = block(resource(config, 'google_cloudfunctions2_function', name), 'service_config');
    t.is(service['available_memory'], '${local.settings.functions[each.key].memory}', name);
    t.is(service['available_cpu'], '${tostring(local.settings.functions[each.key].cpu)}', name);
    t.is(service['max_instance_count'], '${local.settings.functions[each.key].maxInstances}', name);
  }
  const sub = resource(config, 'google_pubsub_subscription', 'stage_push');
  const retry = block(sub, 'retry_policy');
  t.is(retry['minimum_backoff'], '${local.settings.functions[each.key].minBackoffS}s');
  t.is(retry['maximum_backoff'], '${local.settings.functions[each.key].maxBackoffS}s');
  t.is(block(sub, 'dead_letter_policy')['max_delivery_attempts'], '${local.max_delivery_attempts[each.key]}');
  // terraform's dead-letter limit is settingsOf's formula for its own max_attempts
  t.regex(
    String(config.locals['max_delivery_attempts']),
    /min\(100, max\(5, local\.settings\.functions\[s\]\.deliveriesPerLease \* var\.max_attempts \+ 2\)\)/,
  );
  for (const attempts of [1, 3, 7]) {
    for (const stage of STAGE_NAMES) {
      const row = table.functions[stage] as { deliveriesPerLease: number };
      t.is(
        Math.min(100, Math.max(5, row.deliveriesPerLease * attempts + 2)),
        settingsOf(stage, attempts).maxDeliveryAttempts,
      );
    }
  }
  const job = resource(config, 'google_cloud_scheduler_job', 'sweeper');
  t.is(job['schedule'], '*/${floor(local.settings.sweepPeriodS / 60)} * * * *');
  t.is(table.sweepPeriodS % 60, 0, 'Cloud Scheduler runs on whole minutes');
  t.is(
    block(job, 'http_target')['uri'],
    '${google_cloudfunctions2_function.recovery["sweeper"].service_config[0].uri}',
  );
});

test('dead letters are pushed to the deadletter function, authenticated as the invoker', async (t) => {
  const config = await terraformConfig();
  const sub = resource(config, 'google_pubsub_subscription', 'dead_letter_push');
  t.is(sub['for_each'], '${toset(local.stages)}');
  t.is(sub['topic'], '${google_pubsub_topic.dead_letter[each.key].id}');
  const push = block(sub, 'push_config');
  t.regex(String(push['push_endpoint']), /recovery\["deadletter"\]/);
  t.is(block(push, 'oidc_token')['service_account_email'], '${google_service_account.kiln["invoker"].email}');
});
