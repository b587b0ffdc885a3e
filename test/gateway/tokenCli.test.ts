/** `npm run --silent token`: the JWT alone on stdout, accepted by the gateway's authenticator. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { createAuthenticator } from '../../gateway/auth/authenticate';

const ROOT = path.join(__dirname, '../..');
const secret = 't'.repeat(32);

async function npmToken(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '--silent', 'token', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, JWT_SECRET: secret, AUTH_JWKS_URL: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

test('prints only a JWT that verifies to the given tenant, user and roles, expiring after --ttl', async () => {
  const { code, stdout, stderr } = await npmToken(['--tenant', 'globex', '--user', '00u7ab', '--role', 'manager,quota-admin', '--ttl', '120']);
  expect([code, stderr]).toEqual([0, '']);
  expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const authenticate = createAuthenticator({ kind: 'hs256', secret });
  await expect(authenticate(`Bearer ${stdout.trim()}`)).resolves.toEqual({ tenant: 'globex', userId: '00u7ab', roles: ['manager', 'quota-admin'] });
  const { iat, exp } = decodeJwt(stdout.trim());
  expect(exp! - iat!).toBe(120);
});

test.each([
  [['--user', 'u', '--role', 'viewer'], /--tenant is required/],
  [['--tenant', 'Acme', '--user', 'u', '--role', 'viewer'], /--tenant must be lowercase/],
  [['--tenant', 'acme', '--role', 'viewer'], /--user is required/],
  [['--tenant', 'acme', '--user', 'u', '--role', 'viewer,wizard'], /unknown role\(s\) wizard/],
  [['--tenant', 'acme', '--user', 'u', '--role', 'viewer', '--ttl', '0'], /--ttl must be a positive integer/],
])('%j: usage error on stderr, exit 2, nothing on stdout', async (args, message) => {
  const { code, stdout, stderr } = await npmToken(args);
  expect([code, stdout]).toEqual([2, '']);
  expect(stderr).toMatch(message);
});
