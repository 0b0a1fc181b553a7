// Issue 13, case 9 on the suite's rclone (1.75; test/compat/secrets-env.test.ts runs the same on 1.60): secret
// rclone options reach rclone through its environment, never its command line, and are masked everywhere.
import { test } from 'node:test';
import { checkPasswordOptions, runSecretsCase } from '../helpers/secrets-case.js';
import { serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite();

test('every option this rclone marks as a password is a secret to the manager', { skip: suite.skip }, (t) => {
  t.diagnostic(`password options: ${checkPasswordOptions(suite.rclone!).join(' ')}`);
});

test('secrets in rclone_options (sftp_pass, b2_key, s3_secret_access_key): not on rclone\'s command line for another user, not in any file, reply or log', { skip: suite.skip }, async (t) => {
  await runSecretsCase(t, suite.rclone!, suite.bus().address);
});
