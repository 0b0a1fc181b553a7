// rbmctl check-config [--config FILE]: validate a config file offline (no service needed), including its
// options against the rclone it names. Exit 0 and a one-line summary when valid (plus a line per bisync-only option
// in an rclone_options map, which the setup commands do not get; --json lists where every option applies), 78 with
// every problem when not.
import { exitCodeFor } from '../../errors.js';
import { checkConfigFile } from '../../config/check.js';
import { defaultConfigPath } from '../../config/load.js';
import { describeOptionPlacements, formatOptionPlacement } from '../../rclone/option-scope.js';
import type { RcloneProbe } from '../../config/load.js';
import type { Config, RcloneCapabilities } from '../../config/types.js';
import { jobChecksumNote } from '../../run/compare-mode.js';
import { defaultStateDir } from '../../state/paths.js';
import type { Ctx } from '../context.js';

/** Per job, what the config cannot do with this rclone and remote (issue 12.8: same-size edits within the modtime precision). */
function checksumNotes(config: Config, caps: RcloneCapabilities | undefined, stateDir: string): { job: string; note: string }[] {
  if (caps === undefined) return [];
  const out: { job: string; note: string }[] = [];
  for (const job of config.jobs) {
    const note = jobChecksumNote(stateDir, job, config.global, caps);
    if (note !== undefined) out.push({ job: job.name, note });
  }
  return out;
}

export async function checkConfigCommand(ctx: Ctx, probe: RcloneProbe): Promise<number> {
  const home = ctx.io.env.HOME ?? '/';
  const path = ctx.args.config ?? defaultConfigPath({ XDG_CONFIG_HOME: ctx.io.env.XDG_CONFIG_HOME, HOME: home });
  const result = await checkConfigFile(path, { home, probe });
  if (result.ok) {
    const placements = describeOptionPlacements(result.config);
    const notes = checksumNotes(result.config, result.caps, defaultStateDir({ XDG_STATE_HOME: ctx.io.env.XDG_STATE_HOME, HOME: home }));
    if (ctx.args.json) ctx.json({ ok: true, path: result.config.path, summary: result.summary, jobs: result.config.jobs.map((j) => j.name), options: placements, notes });
    else {
      ctx.out(result.summary);
      // Options whose reach is not obvious: bisync's own flags in rclone_options skip the setup commands.
      for (const p of placements) if (p.scope === 'bisync only' && p.map.endsWith('rclone_options')) ctx.out(`  ${formatOptionPlacement(p)}; not given to the setup commands (mkdir, lsf, touch)`);
      for (const n of notes) ctx.out(`note: sync_jobs.${n.job}: ${n.note}`);
    }
    return 0;
  }
  if (ctx.args.json) ctx.json({ ok: false, path, issues: result.error.issues });
  else {
    ctx.out(result.error.message);
    if (result.error.hint) ctx.out(result.error.hint);
  }
  return exitCodeFor('InvalidConfig');
}
