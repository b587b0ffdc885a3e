/**
 * npm run --silent token -- --tenant T --user U --role R[,R2] [--ttl 3600]
 * Prints a dev JWT (HS256 with JWT_SECRET, or the dev default) and nothing else on stdout.
 */
import { loadConfig } from '../common/config';
import { ROLES, isRole, isTenantId } from '../common/principal';
import { signDevToken } from '../gateway/auth/devToken';
import { TENANT_FLAG, type Usage, parseFlags, positiveInt, required, usageText } from '../common/args';
import { UsageError, runMain } from '../common/runMain';

const USAGE = {
  command: 'npm run --silent token --',
  synopsis: ['--tenant T --user U --role R[,R2] [--ttl SECONDS]'],
  summary: 'Prints a dev JWT (HS256 with JWT_SECRET, else the public dev secret; claims sub, tenant, roles, exp) and nothing else on stdout.',
  flags: {
    tenant: TENANT_FLAG,
    user: { type: 'string', value: 'U', meaning: 'the user id, e.g. an Okta user id; required' },
    role: { type: 'string', value: 'R[,R2]', meaning: `the roles, of ${ROLES.join(', ')}; required` },
    ttl: { type: 'string', value: 'SECONDS', meaning: 'how long the token is valid', default: '3600' },
  },
  notes: ['With AUTH_JWKS_URL set it refuses (exit 1): the gateway then accepts only the identity provider\'s tokens.'],
  examples: ['TOKEN=$(npm run --silent token -- --tenant acme --user 00u1 --role executive)'],
} satisfies Usage;

runMain(usageText(USAGE), async () => {
  const { values } = parseFlags(process.argv.slice(2), USAGE);
  const tenant = required(values.tenant, 'tenant');
  if (!isTenantId(tenant)) throw new UsageError(`--tenant must be lowercase letters, digits and underscores, starting with a letter; not "${tenant}".`);
  const user = required(values.user, 'user');
  const roles = required(values.role, 'role').split(',').map((r) => r.trim());
  const unknown = roles.filter((r) => !isRole(r));
  if (unknown.length > 0) throw new UsageError(`unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')}.`);
  const ttlSeconds = positiveInt(values.ttl, 'ttl', 3600);

  const config = loadConfig(process.env);
  if (config.auth.kind !== 'hs256') throw new Error('AUTH_JWKS_URL is set: the gateway accepts only the IdP\'s tokens, not dev tokens.');
  const token = await signDevToken({ tenant, user, roles: roles.filter(isRole), secret: config.auth.secret, ttlSeconds });
  process.stdout.write(`${token}\n`);
});
