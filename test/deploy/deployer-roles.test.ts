import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TERRAFORM_DIR, terraformConfig } from './terraform-config.js';

/**
 * The account that deploys Kiln (docs/deploy.md, step 3) holds named roles only: terraform/deployer-roles.json says
 * which, what each grants and which Terraform resource types need it. A resource type nobody may create, a role the
 * docs grant that the table does not explain, or a basic role anywhere fails here.
 */

interface DeployerRole {
  grants: string;
  for: string[];
}
const roles = JSON.parse(readFileSync(join(TERRAFORM_DIR, 'deployer-roles.json'), 'utf8')) as Record<
  string,
  DeployerRole
>;
const docs = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
const BASIC = /^roles\/(owner|editor|viewer)$/;
/** Data sources of providers that call no Google API. */
const LOCAL_ONLY = new Set(['archive_file']);

/** The roles of the `for role in …; do` loop that grants the deployer its roles in docs/deploy.md. */
function docsDeployerRoles(): string[] {
  const loop =
    /for role in ([\s\S]*?); do\n\s+gcloud projects add-iam-policy-binding "\$PROJECT_ID" --member="serviceAccount:\$DEPLOYER"/.exec(
      docs,
    );
  if (!loop) throw new Error('docs/deploy.md has no loop granting the deployer its roles');
  return loop[1]!.split(/[\s\\]+/).filter((w) => w.startsWith('roles/'));
}

test('every resource and data source type Terraform manages is covered by a deployer role', async (t) => {
  const config = await terraformConfig();
  const types = [...Object.keys(config.resources), ...Object.keys(config.data)].filter((x) => !LOCAL_ONLY.has(x));
  const covered = new Set(Object.values(roles).flatMap((r) => r.for));
  t.true(types.length > 10);
  t.deepEqual(
    types.filter((x) => !covered.has(x)),
    [],
    'add the role that creates it to terraform/deployer-roles.json',
  );
  t.deepEqual(
    [...covered].filter((x) => !types.includes(x)),
    [],
    'deployer-roles.json names a type Terraform no longer has',
  );
});

test('the deployer gets exactly the roles of the table, each explained, none of them basic', (t) => {
  const names = Object.keys(roles);
  t.false(
    names.some((r) => BASIC.test(r)),
    'no Owner, Editor or Viewer',
  );
  for (const [name, r] of Object.entries(roles)) t.true(r.grants.length > 10, `${name}: say what it grants`);
  t.deepEqual(docsDeployerRoles().sort(), [...names].sort());
  for (const name of names) t.true(docs.includes(`(\`${name}\`)`), `docs/deploy.md explains ${name}`);
});

test('no Terraform grant and no grant in the docs is a basic role', (t) => {
  for (const file of readdirSync(TERRAFORM_DIR).filter((f) => f.endsWith('.tf') || f.endsWith('.json'))) {
    const text = readFileSync(join(TERRAFORM_DIR, file), 'utf8');
    t.notRegex(text, /roles\/(owner|editor|viewer)\b/, file);
  }
  t.notRegex(docs, /--role[= ]"?roles\/(owner|editor|viewer)\b/);
  t.notRegex(docs.match(/for role in [\s\S]*?; do/)?.[0] ?? '', /roles\/(owner|editor|viewer)\b/);
});
