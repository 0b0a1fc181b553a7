// The config schema is compiled ahead of time (src/config/schema-validator.generated.ts): the committed file must be
// exactly what the generator makes from today's schema, and must judge values exactly as ajv compiling it at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { GENERATED_VALIDATOR_PATH, configValidatorSource } from '../../scripts/generate-config-validator.js';
import { AJV_OPTIONS, configSchema, schemaErrors } from '../../src/config/schema.js';

test('the generated validator is up to date with schema.ts (else run: npm run generate)', () => {
  assert.equal(readFileSync(GENERATED_VALIDATOR_PATH, 'utf8'), configValidatorSource());
});

test('the generated validator reports the same errors as ajv compiling the schema at run time', () => {
  const runtime = new Ajv(AJV_OPTIONS).compile(configSchema);
  const values: unknown[] = [
    {},
    { local_base_path: '' },
    { local_base_path: '/x', sync_jobs: { a: { local: '', rclone_remote: 1, remote: 'r', schedule: '' } } },
    { local_base_path: '/x', max_parallel_jobs: 0, shutdown_grace: 4000, dry_run: 'yes', rclone_nice: 20, extra: 1 },
    { local_base_path: '/x', rclone_options: { exclude: [[1]] }, sync_jobs: { b: { local: 'b', rclone_remote: 'r', remote: 'r', schedule: '* * * * *', conflict_resolve: 'mine' } } },
    { local_base_path: '/x', sync_jobs: { c: { local: '\u{1F600}', rclone_remote: '', remote: '/y', schedule: 'x' } } },
    [],
    'text',
  ];
  for (const value of values) {
    const expected = runtime(value) ? [] : (runtime.errors ?? []);
    const simplify = (errors: readonly { instancePath: string; keyword: string; params: unknown; message?: string | undefined }[]): unknown[] =>
      errors.map((e) => [e.instancePath, e.keyword, e.params, e.message]);
    assert.deepEqual(simplify(schemaErrors(value)), simplify(expected), JSON.stringify(value));
  }
  assert.ok(schemaErrors(values[3]).length >= 4, 'the bad values do produce errors');
});
