// rbmctl daemon start|stop|status|reload: the old tool's daemon control, through `systemctl --user` where a user
// manager runs; elsewhere it explains how to run the service in the foreground. reload always goes over D-Bus.
import type { Argv } from 'yargs';
import { RbmError, exitCodeFor } from '../../errors.js';
import type { Ctx } from '../context.js';
import { reloadCommand } from './control.js';

export const UNIT = 'rclone-bisync-manager.service';
export type DaemonAction = 'start' | 'stop' | 'status' | 'reload';

const FOREGROUND = 'Run it in the foreground instead: rclone-bisync-manager --console-log (add --config FILE for another config); stop it with Ctrl-C.';

async function userManagerRuns(ctx: Ctx): Promise<boolean> {
  const r = await ctx.deps.runCommand('systemctl', ['--user', 'is-system-running']);
  // Exit 0 only for "running"; a degraded or starting manager still starts units.
  return ['running', 'degraded', 'starting', 'initializing', 'maintenance'].includes(r.stdout.trim());
}

async function serviceAnswers(ctx: Ctx): Promise<{ running: boolean; version?: string; state?: string }> {
  try {
    const status = await ctx.withClient((c) => c.status(), 'read');
    return { running: true, version: status.version, state: status.state };
  } catch (e: unknown) {
    if (e instanceof RbmError && e.code === 'ServiceUnavailable') return { running: false };
    throw e;
  }
}

export async function daemonCommand(ctx: Ctx, action: DaemonAction): Promise<number> {
  if (action === 'reload') return reloadCommand(ctx);
  const systemd = await userManagerRuns(ctx);
  if (action === 'status') {
    const answer = await serviceAnswers(ctx);
    let unit: string | undefined;
    if (systemd) unit = (await ctx.deps.runCommand('systemctl', ['--user', 'is-active', UNIT])).stdout.trim();
    if (ctx.args.json) ctx.json({ running: answer.running, version: answer.version ?? null, state: answer.state ?? null, systemd_unit: unit ?? null });
    else if (answer.running) ctx.out(`rclone-bisync-manager ${answer.version ?? ''} is ${answer.state ?? 'running'}${unit ? ` (unit ${UNIT}: ${unit})` : ' (not under systemd)'}`);
    else ctx.out(`rclone-bisync-manager is not running${unit ? ` (unit ${UNIT}: ${unit})` : ''}`);
    return answer.running ? 0 : exitCodeFor('ServiceUnavailable');
  }
  if (!systemd) {
    throw new RbmError('ServiceUnavailable', `no systemd user manager runs here, so rbmctl cannot ${action} the service`, { hint: action === 'start' ? FOREGROUND : 'Stop the foreground service with Ctrl-C in its terminal, or send it SIGTERM.' });
  }
  const r = await ctx.deps.runCommand('systemctl', ['--user', action, UNIT]);
  if (r.code !== 0) {
    throw new RbmError('ServiceUnavailable', `systemctl --user ${action} ${UNIT} failed: ${(r.stderr || r.stdout).trim()}`, { hint: `journalctl --user -u ${UNIT} shows why.` });
  }
  if (!ctx.args.json) ctx.out(`${action === 'start' ? 'started' : 'stopped'} ${UNIT}`);
  else ctx.json({ [action]: UNIT });
  return 0;
}

export function daemonBuilder<T>(y: Argv<T>) {
  return y.positional('action', { choices: ['start', 'stop', 'status', 'reload'] as const, demandOption: true, describe: 'What to do with the service' });
}
