import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstStage, nextStage, readsUpload, ROUTES, STAGE_NAMES, STAGES } from '../../shared/pipeline/stages.js';
import { allResources, block, resource, terraformConfig, TERRAFORM_DIR } from './terraform-config.js';

type Grants = {
  project: string[];
  buckets: Record<string, string[]>;
  topics: Record<string, string[]>;
  services: Record<string, string[]>;
};
const ROLES = JSON.parse(readFileSync(join(TERRAFORM_DIR, 'roles.json'), 'utf8')) as Record<string, Grants>;

const PUBLISHER = ['roles/pubsub.publisher'];
const ARTIFACT_WRITER = ['roles/storage.objectCreator', 'roles/storage.objectViewer'];

/**
 * What each service account needs, derived from what the code does (the stage table): ingest reads the upload and hands
 * it to the first stage of its route; a stage that reads `upload/` (convert, train) reads the upload bucket; every stage reads earlier artifacts, writes its own
 * (ifGenerationMatch: 0, so create + get), records state in Firestore and publishes the next stage's messages and the
 * build events; the invoker receives Eventarc events and invokes every function.
 */
function expectedRoles(): Record<string, Grants> {
  const out: Record<string, Grants> = {
    ingest: {
      project: ['roles/datastore.user'],
      buckets: { uploads: ['roles/storage.objectViewer'] },
      topics: { ...Object.fromEntries(ROUTES.map((r) => [firstStage(r), PUBLISHER])), events: PUBLISHER },
      services: {},
    },
  };
  for (const spec of STAGES) {
    // The stages that follow this one on any route it is on.
    const next = [...new Set(spec.routes.map((r) => nextStage(spec.name, r)).filter((n) => n !== undefined))];
    out[spec.name] = {
      project: ['roles/datastore.user'],
      buckets: {
        ...(readsUpload(spec) ? { uploads: ['roles/storage.objectViewer'] } : {}),
        artifacts: ARTIFACT_WRITER,
      },
      topics: { ...Object.fromEntries(next.map((n) => [n, PUBLISHER])), events: PUBLISHER },
      services: {},
    };
  }
  // The recovery functions (shared/pipeline/sweep.ts): both fail builds and publish the failure events; the sweeper
  // also publishes a stalled unit's stage message again.
  out['deadletter'] = { project: ['roles/datastore.user'], buckets: {}, topics: { events: PUBLISHER }, services: {} };
  out['sweeper'] = {
    project: ['roles/datastore.user'],
    buckets: {},
    topics: { ...Object.fromEntries(STAGE_NAMES.map((s) => [s, PUBLISHER])), events: PUBLISHER },
    services: {},
  };
  out['invoker'] = {
    project: ['roles/eventarc.eventReceiver'],
    buckets: {},
    topics: {},
    services: Object.fromEntries(
      ['ingest', ...STAGE_NAMES, 'deadletter', 'sweeper'].map((f) => [f, ['roles/run.invoker']]),
    ),
  };
  return out;
}

test('roles.json grants each service account exactly the roles the code needs', (t) => {
  t.deepEqual(ROLES, expectedRoles());
});

test('roles.json is the only source of grants to Kiln service accounts', async (t) => {
  const config = await terraformConfig();
  t.is(config.locals['access'], '${jsondecode(file("${path.module}/roles.json"))}');
  t.is(resource(config, 'google_service_account', 'kiln')['for_each'], '${toset(keys(local.access))}');
  const tableDriven: Record<string, string> = {
    google_project_iam_member: '${local.project_grants}',
    google_storage_bucket_iam_member: '${local.bucket_grants}',
    google_pubsub_topic_iam_member: '${local.topic_grants}',
    google_cloud_run_v2_service_iam_member: '${local.service_grants}',
  };
  const grantsToKiln = allResources(config).filter(
    ([type, , b]) =>
      /_iam_(member|binding|policy)$/.test(type) && JSON.stringify(b).includes('google_service_account.kiln['),
  );
  t.true(grantsToKiln.length >= 4);
  for (const [type, name, b] of grantsToKiln) {
    // A Kiln account may be the *resource* of a grant (the Pub/Sub agent mints its tokens), never an extra member.
    if (type === 'google_service_account_iam_member') {
      t.false(String(b['member']).includes('google_service_account.kiln'), `${type}.${name}`);
      continue;
    }
    t.is(b['for_each'], tableDriven[type], `${type}.${name} must iterate over the roles.json grants`);
    t.is(b['role'], '${each.value.role}', `${type}.${name}`);
  }
  // The grant locals flatten roles.json section by section.
  for (const [section, local] of [
    ['project', 'project_grants'],
    ['buckets', 'bucket_grants'],
    ['topics', 'topic_grants'],
    ['services', 'service_grants'],
  ]) {
    t.true(String(config.locals[local!]).includes(`a.${section}`), `${local} reads the ${section} section`);
  }
  // No primitive or admin roles anywhere in the table.
  for (const grants of Object.values(ROLES)) {
    const roles = [
      grants.project,
      ...Object.values(grants.buckets),
      ...Object.values(grants.topics),
      ...Object.values(grants.services),
    ].flat();
    for (const role of roles) t.false(/owner|editor|admin/i.test(role), role);
  }
});

test('every push subscription has a dead-letter topic the Pub/Sub service agent may use, and a hold subscription', async (t) => {
  const config = await terraformConfig();
  const subs = Object.entries(config.resources['google_pubsub_subscription'] ?? {});
  // Every push subscription but the dead-letter consumer's own (the end of the line: its function always acknowledges).
  const push = subs.filter(([name, s]) => s['push_config'] && name !== 'dead_letter_push');
  t.true(push.length > 0);
  for (const [name, s] of push) {
    const dl = block(s, 'dead_letter_policy');
    t.regex(String(dl['dead_letter_topic']), /^\$\{google_pubsub_topic\.dead_letter\[each\.key\]\.id\}$/, name);
    t.truthy(dl['max_delivery_attempts'], name);
    t.is(
      s['for_each'],
      resource(config, 'google_pubsub_topic', 'dead_letter')['for_each'],
      'one dead-letter topic per subscription',
    );
  }
  t.regex(
    String(config.locals['max_delivery_attempts']),
    /deliveriesPerLease \* var\.max_attempts \+ 2/,
    'dead-letter only after every delivery of max_attempts full leases',
  );
  const publisher = resource(config, 'google_pubsub_topic_iam_member', 'dead_letter_publisher');
  t.is(publisher['role'], 'roles/pubsub.publisher');
  t.is(publisher['member'], '${local.pubsub_service_agent}');
  const subscriber = resource(config, 'google_pubsub_subscription_iam_member', 'dead_letter_subscriber');
  t.is(subscriber['role'], 'roles/pubsub.subscriber');
  t.is(subscriber['member'], '${local.pubsub_service_agent}');
  t.is(subscriber['subscription'], '${google_pubsub_subscription.stage_push[each.key].id}');
  t.regex(String(config.locals['pubsub_service_agent']), /@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/);
  // Messages published to a topic without subscriptions are dropped: each dead-letter topic keeps a pull subscription.
  const hold = resource(config, 'google_pubsub_subscription', 'dead_letter');
  t.is(hold['topic'], '${google_pubsub_topic.dead_letter[each.key].id}');
  t.falsy(hold['push_config']);
});

test('buckets use uniform access, block public access and expire temporary objects', async (t) => {
  const config = await terraformConfig();
  for (const name of ['uploads', 'artifacts', 'sources']) {
    const b = resource(config, 'google_storage_bucket', name);
    t.is(b['uniform_bucket_level_access'], true, name);
    t.is(b['public_access_prevention'], 'enforced', name);
    const rules = (b['lifecycle_rule'] ?? []) as Record<string, any>[];
    t.true(
      rules.some((r) => block(r, 'action')['type'] === 'Delete'),
      `${name} deletes temporary objects`,
    );
  }
  const uploadRules = resource(config, 'google_storage_bucket', 'uploads')['lifecycle_rule'] as Record<string, any>[];
  t.true(
    uploadRules.some((r) => JSON.stringify(block(r, 'condition')['matches_prefix']) === '["${var.temporary_prefix}/"]'),
  );
});

test('Firestore gets the indexes, field overrides and rules of the repository', async (t) => {
  const config = await terraformConfig();
  t.is(resource(config, 'google_firestore_database', 'kiln')['name'], '(default)', 'the database the Admin SDK opens');
  t.is(config.locals['firestore_indexes'], '${jsondecode(file("${path.module}/../firestore.indexes.json"))}');
  t.regex(String(resource(config, 'google_firestore_index', 'kiln')['for_each']), /local\.firestore_indexes\.indexes/);
  t.regex(
    String(resource(config, 'google_firestore_field', 'kiln')['for_each']),
    /local\.firestore_indexes\.fieldOverrides/,
  );
  const ruleset = resource(config, 'google_firebaserules_ruleset', 'firestore');
  t.is(block(block(ruleset, 'source'), 'files')['content'], '${file("${path.module}/../firestore.rules")}');
  t.is(resource(config, 'google_firebaserules_release', 'firestore')['name'], 'cloud.firestore');
});

test('variables are typed, described and validated', async (t) => {
  const { variables } = await terraformConfig();
  for (const [name, v] of Object.entries(variables)) {
    t.truthy(v['type'], `${name} has a type`);
    t.truthy(v['description'], `${name} has a description`);
    if (v['type'] === '${number}' || v['type'] === '${string}') {
      if (name !== 'functions_source_dir') t.truthy(v['validation'], `${name} is validated`);
    }
  }
  t.falsy(variables['project_id']!['default'], 'project_id has no default');
});

test('terraform fmt -check -recursive terraform is clean', (t) => {
  const env = { ...process.env, CHECKPOINT_DISABLE: '1' };
  const probe = spawnSync('terraform', ['version'], { encoding: 'utf8', env });
  if (probe.error) {
    t.log('terraform is not installed: fmt check skipped');
    t.pass();
    return;
  }
  const root = join(TERRAFORM_DIR, '..');
  try {
    execFileSync('terraform', ['fmt', '-check', '-recursive', 'terraform'], { cwd: root, stdio: 'pipe', env });
    t.pass();
  } catch (e) {
    t.fail(`terraform fmt would change: ${String((e as { stdout?: Buffer }).stdout ?? '')}`);
  }
});
