// The bad job-name inputs of issue 14, with the exact message each must get: one table for the request parser's
// unit test, the D-Bus test (busctl, gdbus) and the rbmctl test, so all three show the same parser answering.
// A NUL cannot travel in a command-line argument nor in a D-Bus string (the protocol forbids it): `inArgv` and
// `onBus` say where a case can be carried at all.

/** What every charset message says is expected (the config's rule). */
export const NAME_RULE = '(expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit)';

export interface BadName {
  what: string;
  name: string;
  /** The message after the argument's name, e.g. `job: <problem>`. */
  problem: string;
  inArgv: boolean;
  onBus: boolean;
}

export const BAD_NAMES: readonly BadName[] = [
  { what: 'empty', name: '', problem: `invalid job name "" ${NAME_RULE}`, inArgv: true, onBus: true },
  { what: '65 characters', name: 'a'.repeat(65), problem: 'job name too long (65 characters, at most 64)', inArgv: true, onBus: true },
  { what: '100,000 characters', name: 'x'.repeat(100_000), problem: 'job name too long (100000 characters, at most 64)', inArgv: true, onBus: true },
  { what: '../x', name: '../x', problem: `invalid job name "../x" ${NAME_RULE}`, inArgv: true, onBus: true },
  { what: 'a NUL', name: 'ph\u0000otos', problem: `invalid job name "ph\\u0000otos" ${NAME_RULE}`, inArgv: false, onBus: false },
  { what: 'a slash', name: 'photos/2024', problem: `invalid job name "photos/2024" ${NAME_RULE}`, inArgv: true, onBus: true },
];

/** 10,000 good names in one call: refused by their number before any is looked at. */
export const TOO_MANY_NAMES = {
  what: '10,000 names',
  names: Array.from({ length: 10_000 }, (_, i) => `job${i}`),
  problem: 'too many job names (10000, at most 1000)',
} as const;

/** The message for `bad` given alone as the argument `argument` (job, name). */
export function singleNameMessage(bad: BadName, argument: string): string {
  return `${argument}: ${bad.problem}`;
}

/** The message for `bad` given as the only entry of the list argument `argument` (jobs). */
export function listEntryMessage(bad: BadName, argument: string): string {
  return `${argument}[0]: ${bad.problem}`;
}
