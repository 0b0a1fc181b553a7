// A setup command (rclone mkdir/lsf/touch before a new pair's first resync) failed: the run fails with that
// command's real error instead of going on to a resync that could only abort. Pure.

import type { ExitStatus } from '../../ports.js';
import { classifyRun, type Classification } from './classify.js';
import type { OutputSummary } from '../../rclone/output.js';
import type { Operation } from '../types.js';

/**
 * The run's classification after `command` failed. rclone's own words decide as for a run (a refused login or a
 * missing remote is failed, an unreachable remote retryable); anything else is failed. Never a lockout: no
 * listing was touched.
 */
export function classifySetupFailure(command: string, exit: ExitStatus, summary: OutputSummary, operation: Operation): Classification {
  const c = classifyRun(exit, summary, { operation, dryRun: false, cancelled: false });
  const outcome = c.outcome === 'retryable' ? 'retryable' : 'failed';
  return {
    ...c,
    outcome,
    retryable: outcome === 'retryable',
    message: `setting up the pair failed (${command}): ${c.message}`,
    hint: outcome === 'retryable' ? c.hint : c.hint || 'Fix the cause shown and run rbmctl sync JOB.',
    followUp: 'none',
    autoResyncReason: '',
    lockout: false,
    errorText: c.errorText || `${command}: exit ${exit.code ?? exit.signal ?? ''}`,
  };
}
