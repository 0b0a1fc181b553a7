// rbmctl watch: follow the service's signals, one line each (or one JSON object per line), until interrupted.
import { RbmError } from '../../errors.js';
import type { ManagerSignal } from '../../dbus/client.js';
import type { Ctx } from '../context.js';
import { formatSignal, toJsonLine } from '../format.js';

export async function watchCommand(ctx: Ctx): Promise<number> {
  return ctx.withClient(async (client) => {
    let stop: (result: number | RbmError) => void = () => undefined;
    const ended = new Promise<number | RbmError>((resolve) => (stop = resolve));
    const onSignal = (signal: ManagerSignal): void => {
      if (ctx.args.json) ctx.out(toJsonLine({ ...signal, time_usec: BigInt(ctx.deps.now()) * 1000n }));
      else ctx.out(formatSignal(signal, ctx.deps.now()));
      if (signal.kind === 'bus-lost') stop(new RbmError('ServiceUnavailable', 'lost the connection to the session bus'));
    };
    const unsubscribe = await client.subscribe(onSignal);
    const onAbort = (): void => stop(0);
    if (ctx.deps.abort?.aborted) stop(0);
    ctx.deps.abort?.addEventListener('abort', onAbort);
    try {
      if (!ctx.args.json) ctx.err('rbmctl: watching the service’s signals (Ctrl-C to stop)');
      const result = await ended;
      if (result instanceof RbmError) throw result;
      return result;
    } finally {
      ctx.deps.abort?.removeEventListener('abort', onAbort);
      unsubscribe();
    }
  }, 'read');
}
