import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../../common/errors';

test('every error code is documented in the README error table', () => {
  const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const documented = new Set([...readme.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]));
  expect(Object.values(ErrorCode).filter((code) => !documented.has(code))).toEqual([]);
});
