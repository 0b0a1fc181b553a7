// rbmctl check-config [--config FILE]: validate a config file offline (no service needed), including its
// options against the rclone it names. Exit 0 and a one-line summary when valid, 78 with every problem when not.
import { exitCodeFor } from '../../errors.js';
import { checkConfigFile } from '../../config/check.js';
import { defaultConfigPath } from '../../config/load.js';
import type { RcloneProbe } from '../../config/load.js';
import type { Ctx } from '../context.js';

export async function checkConfigCommand(ctx: Ctx, probe: RcloneProbe): Promise<number> {
  const home = ctx.io.env.HOME ?? '/';
  const path = ctx.args.config ?? defaultConfigPath({ XDG_CONFIG_HOME: ctx.io.env.XDG_CONFIG_HOME, HOME: home });
  const result = await checkConfigFile(path, { home, probe });
  if (result.ok) {
    if (ctx.args.json) ctx.json({ ok: true, path: result.config.path, summary: result.summary, jobs: result.config.jobs.map((j) => j.name) });
    else ctx.out(result.summary);
    return 0;
  }
  if (ctx.args.json) ctx.json({ ok: false, path, issues: result.error.issues });
  else {
    ctx.out(result.error.message);
    if (result.error.hint) ctx.out(result.error.hint);
  }
  return exitCodeFor('InvalidConfig');
}
