// Builds JobConfig / GlobalSettings objects directly (until tests go through the config parser).
import { DEFAULT_ALERTS, DEFAULT_DETAILS_COMMAND, JOB_DEFAULTS } from '../../src/config/parse.js';
import { NO_CONDITIONS } from '../../src/conditions/evaluate.js';
import { DEFAULT_WATCH } from '../../src/config/watch-settings.js';
import type { GlobalSettings, JobConfig } from '../../src/config/types.js';

export function makeGlobal(overrides: Partial<GlobalSettings> = {}): GlobalSettings {
  return {
    localBasePath: '/home/user',
    exclusionRulesFile: undefined,
    redirectRcloneLogOutput: false,
    maxCpuUsagePercent: 100,
    rcloneNice: 10,
    runMissedJobs: false,
    runInitialSyncOnStartup: false,
    maxParallelJobs: 1,
    rcloneBinary: 'rclone',
    shutdownGraceSec: 100,
    dryRun: false,
    rcloneOptions: {},
    bisyncOptions: {},
    resyncOptions: {},
    jobDefaults: { ...JOB_DEFAULTS },
    alerts: DEFAULT_ALERTS,
    detailsCommand: DEFAULT_DETAILS_COMMAND,
    runConditions: NO_CONDITIONS,
    watch: DEFAULT_WATCH,
    ...overrides,
  };
}

export function makeJob(overrides: Partial<JobConfig> = {}): JobConfig {
  return {
    name: 'docs',
    local: '/home/user/Documents',
    rcloneRemote: 'box',
    remote: 'Documents',
    path2: 'box:Documents',
    schedule: '*/15 * * * *',
    active: true,
    dryRun: false,
    forceResync: false,
    forceOperation: false,
    checkAccess: false,
    checksumCompare: true,
    autoResync: false,
    conflictResolve: undefined,
    conflictLoser: undefined,
    conflictSuffix: undefined,
    filtersFile: undefined,
    rcloneOptions: {},
    bisyncOptions: {},
    resyncOptions: {},
    alerts: DEFAULT_ALERTS,
    runConditions: NO_CONDITIONS,
    watch: DEFAULT_WATCH,
    ...overrides,
  };
}
