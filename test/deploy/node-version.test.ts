import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { ROOT, TERRAFORM_DIR, terraformConfig } from './terraform-config.js';

/**
 * One Node.js major everywhere Kiln names one: the engines of package.json, .nvmrc, the Cloud Functions runtime of
 * terraform, the base images of the Dockerfiles under deploy/, the images of cloudbuild.yaml and @types/node. A deploy
 * on a decommissioned runtime is refused by Cloud Functions, so a version left behind in one place is a broken deploy.
 */

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const majors = (text: string, pattern: RegExp): number[] => [...text.matchAll(pattern)].map((m) => Number(m[1]));
/** The major of a version or range that names one: "22", "v22.11.0", "22.x", ">=22", "^22.20.7". */
const rangeMajor = (range: string): number | undefined => {
  const m = /^\s*(?:>=|\^|~|v)?(\d+)(?:\.(?:\d+|x))*\s*$/.exec(range);
  return m ? Number(m[1]) : undefined;
};

function dockerfiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? dockerfiles(join(dir, e.name)) : e.name === 'Dockerfile' ? [join(dir, e.name)] : [],
  );
}

interface Named {
  where: string;
  majors: (number | undefined)[];
}

async function everyNodeVersion(): Promise<Named[]> {
  const pkg = JSON.parse(read('package.json')) as {
    engines?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const named: Named[] = [
    { where: 'package.json engines.node', majors: [rangeMajor(pkg.engines?.['node'] ?? '')] },
    { where: '.nvmrc', majors: [rangeMajor(read('.nvmrc'))] },
    { where: 'package.json @types/node', majors: [rangeMajor(pkg.devDependencies?.['@types/node'] ?? '')] },
  ];
  const config = await terraformConfig();
  named.push({
    where: 'terraform local.functions_build.runtime',
    majors: majors(String(config.locals['functions_build']?.['runtime']), /^nodejs(\d+)$/g),
  });
  for (const file of readdirSync(TERRAFORM_DIR).filter((f) => f.endsWith('.tf'))) {
    const found = majors(readFileSync(join(TERRAFORM_DIR, file), 'utf8'), /\bnodejs(\d+)\b/g);
    if (found.length > 0) named.push({ where: `terraform/${file}`, majors: found });
  }
  for (const file of dockerfiles(join(ROOT, 'deploy'))) {
    named.push({
      where: relative(ROOT, file),
      majors: majors(readFileSync(file, 'utf8'), /^ARG NODE_IMAGE=node:(\d+)\b/gm),
    });
  }
  const cloudbuild = parse(read('cloudbuild.yaml')) as { steps: { name: string; args?: string[] }[] };
  const images = cloudbuild.steps.flatMap((s) => [s.name, ...(s.args ?? [])]).join('\n');
  named.push({ where: 'cloudbuild.yaml', majors: majors(images, /\bnode:(\d+)\b/g) });
  return named;
}

test('package.json, .nvmrc, terraform, the Dockerfiles and cloudbuild.yaml all name one Node major', async (t) => {
  const named = await everyNodeVersion();
  for (const n of named) {
    t.true(n.majors.length > 0, `${n.where} names no Node version`);
    t.true(
      n.majors.every((m) => m !== undefined),
      `${n.where}: not a version naming one major`,
    );
  }
  const all = new Set(named.flatMap((n) => n.majors));
  t.is(all.size, 1, named.map((n) => `${n.where}: ${n.majors.join(', ')}`).join('; '));
  const dockerfilesFound = named.filter((n) => n.where.endsWith('Dockerfile')).map((n) => n.where);
  t.true(dockerfilesFound.includes(join('deploy', 'compile', 'Dockerfile')), 'the compile image is checked');
  t.true(dockerfilesFound.includes(join('deploy', 'ci', 'Dockerfile')), 'the Cloud Build test image is checked');
});

test('a Node version is read from each way it is written', (t) => {
  t.is(rangeMajor('22'), 22);
  t.is(rangeMajor('v22.11.0\n'), 22);
  t.is(rangeMajor('22.x'), 22);
  t.is(rangeMajor('>=22'), 22);
  t.is(rangeMajor('^22.20.7'), 22);
  t.is(rangeMajor('>=20 <23'), undefined, 'a range over several majors names none');
  t.is(rangeMajor('lts/*'), undefined);
  t.deepEqual(majors('FROM node:22-bookworm\nname: node:20\n', /\bnode:(\d+)\b/g), [22, 20]);
});
