import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './terraform-config.js';

interface Step {
  id: string;
  name: string;
  entrypoint?: string;
  args?: string[];
  env?: string[];
  dir?: string;
}
interface CloudBuild {
  steps: Step[];
  substitutions?: Record<string, string>;
  options?: Record<string, unknown>;
}

const cloudbuild = parse(readFileSync(join(ROOT, 'cloudbuild.yaml'), 'utf8')) as CloudBuild;
const ids = cloudbuild.steps.map((s) => s.id);
const step = (id: string): Step => {
  const s = cloudbuild.steps.find((x) => x.id === id);
  if (!s) throw new Error(`cloudbuild.yaml has no step ${id}`);
  return s;
};
const text = (s: Step): string => [s.entrypoint ?? '', ...(s.args ?? [])].join(' ');

test('steps run in the order test image → install → tests → bundle → image → terraform plan → apply → smoke test', (t) => {
  const order = [
    'ci-image',
    'install',
    'test',
    'bundle',
    'image-build',
    'image-push',
    'terraform-init',
    'terraform-plan',
    'terraform-apply',
    'smoke-test',
  ];
  t.deepEqual(
    ids.filter((id) => order.includes(id)),
    order,
  );
  t.is(new Set(ids).size, ids.length, 'step ids are unique');
  // The README's commands, exactly: npm test is the type check, the lint and every test.
  t.deepEqual(step('install').args?.slice(0, 1), ['ci']);
  t.is(text(step('test')), 'npm test');
  t.is(text(step('bundle')), 'npm run bundle');
  // No step runs in parallel: without waitFor every step waits for the previous one.
  t.true(cloudbuild.steps.every((s) => !('waitFor' in s)));
});

test('every npm step runs in the test image built first from deploy/ci/Dockerfile', (t) => {
  const build = step('ci-image');
  t.is(build.name, 'gcr.io/cloud-builders/docker');
  t.is(build.args![0], 'build');
  t.is(build.args!.at(-1), 'deploy/ci', 'the build context is the folder of deploy/ci/Dockerfile');
  const tag = build.args!.find((a) => a.startsWith('--tag='))!.slice('--tag='.length);
  t.true(tag.endsWith(':$BUILD_ID'), 'one test image per build');
  const nodeSteps = cloudbuild.steps.filter((s) => /(^|\s)(npm|npx|node)\s/.test(text(s)));
  t.deepEqual(
    nodeSteps.map((s) => s.id),
    ['install', 'test', 'bundle', 'smoke-test'],
  );
  for (const s of nodeSteps) t.is(s.name, tag, `${s.id} runs in the test image`);
  // What the suite needs (the emulators of the local stack, Java for them, Chromium, flatc) is in that image.
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'ci', 'Dockerfile'), 'utf8');
  for (const pkg of [
    'google-cloud-cli-pubsub-emulator',
    'google-cloud-cli-firestore-emulator',
    'openjdk-17-jre-headless',
    'chromium',
    'flatbuffers-compiler',
  ]) {
    t.regex(dockerfile, new RegExp(`\\b${pkg}\\b`), pkg);
  }
});

test('the compile image is built from deploy/compile/Dockerfile, pushed, and the same tag goes to terraform', (t) => {
  const image = '${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/compile:$BUILD_ID';
  const build = step('image-build');
  t.true(build.args!.includes('--file=deploy/compile/Dockerfile'));
  t.true(build.args!.includes('--platform=linux/amd64'), 'edgetpu_compiler is x86-64 only');
  t.true(build.args!.includes(`--tag=${image}`));
  t.deepEqual(step('image-push').args, ['push', image]);
  t.true(step('terraform-plan').env!.includes(`TF_VAR_compile_image=${image}`));
  t.true(step('terraform-plan').env!.includes('TF_VAR_name_prefix=${_REPOSITORY}'), 'repository id = name prefix');
});

test('terraform apply and the smoke test run only with _APPLY=true', (t) => {
  t.is(cloudbuild.substitutions?.['_APPLY'], 'false', 'plan only by default');
  const applying = cloudbuild.steps.filter(
    (s) => /terraform apply|\bapply\b/.test(text(s)) && s.id !== 'terraform-plan',
  );
  t.deepEqual(
    applying.map((s) => s.id),
    ['terraform-apply'],
  );
  for (const id of ['terraform-apply', 'smoke-test']) {
    const script = text(step(id));
    t.regex(script, /if \[ "\$\{_APPLY\}" = "true" \]; then/, id);
    const guarded = script.slice(script.indexOf('then'), script.indexOf('else'));
    t.true(guarded.length > 0, id);
    if (id === 'terraform-apply') t.true(guarded.includes('terraform apply -input=false -auto-approve tfplan'));
    else t.true(guarded.includes('deploy/smoke/smoke.ts'));
  }
  t.deepEqual(step('terraform-plan').args, ['plan', '-input=false', '-out=tfplan']);
  t.true(step('terraform-init').args!.includes('-backend-config=bucket=${_TF_STATE_BUCKET}'));
});
