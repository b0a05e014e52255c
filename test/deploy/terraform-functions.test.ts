import test from 'ava';
import { FUNCTION_NAMES } from '../../functions/index.js';
import { COMPILER_ENV } from '../../shared/edgetpu/runner.js';
import { ENV_SCHEMA } from '../../shared/pipeline/config.js';
import { EVENTS_RETENTION_SECONDS } from '../../shared/pipeline/events.js';
import { STAGE_NAMES, stageTopic } from '../../shared/pipeline/stages.js';
import { block, functionDirs, resource, terraformConfig } from './terraform-config.js';

/** The KILN_* names the functions read in the cloud: ENV_SCHEMA minus the local stack's emulator ports. */
const CLOUD_ENV = Object.keys(ENV_SCHEMA.shape)
  .filter((k) => !k.endsWith('_PORT'))
  .sort();

test('terraform lists every function in functions/ and every stage of the code', async (t) => {
  const { locals } = await terraformConfig();
  t.deepEqual([...locals['functions']].sort(), functionDirs());
  t.deepEqual([...locals['functions']].sort(), [...FUNCTION_NAMES].sort());
  t.deepEqual(locals['stages'], [...STAGE_NAMES], 'stage order as in shared/pipeline/stages.ts');
  // Every stage is a Cloud Function except compile, which runs on Cloud Run from the compiler image.
  t.deepEqual([...locals['stage_functions'], 'compile'].sort(), [...STAGE_NAMES].sort());
  t.deepEqual(['ingest', ...STAGE_NAMES].sort(), functionDirs(), 'functions/ holds ingest and one function per stage');
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
  t.is(env['KILN_LEASE_MS'], '${tostring(var.stage_timeout_seconds * 1000)}', 'the lease is the function timeout');
  // The compile service adds where the real compiler is, under the name shared/edgetpu/runner.ts reads.
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
  t.is(config.locals['functions_build']['runtime'], 'nodejs20');
  const service = block(fn, 'service_config');
  t.is(service['environment_variables'], '${local.pipeline_env}');
  t.is(service['service_account_email'], '${google_service_account.kiln[each.key].email}');
  t.is(service['timeout_seconds'], '${var.stage_timeout_seconds}');
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
  t.is(template['timeout'], '${var.stage_timeout_seconds}s');
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
  t.true(sub['ack_deadline_seconds'] >= 540, 'the ack deadline covers a whole unit of work');
  const urls = String(config.locals['stage_urls']);
  t.true(urls.includes('google_cloudfunctions2_function.stage'));
  t.true(urls.includes('compile = google_cloud_run_v2_service.compile.uri'));
});
