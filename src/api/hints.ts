// The one renderer of next-step hints: rules write JOB where the job's name goes; every hint that leaves the
// engine (a run record, a job status, an error) passes through here, so users never see a literal JOB.

/** `hint` with every JOB placeholder replaced by the job's name. */
export function renderHint(hint: string, job: string): string {
  return hint.replace(/\bJOB\b/g, job);
}
