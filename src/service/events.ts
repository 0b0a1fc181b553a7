// The service's ControlApi events: listeners by event name, and an emit that a failing listener cannot break.
import { errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import type { ControlEvents, Unsubscribe } from '../api/control-api.js';

type Listeners = { [E in keyof ControlEvents]: Set<ControlEvents[E]> };

export interface EventHub {
  /** Call every listener of `event`; a listener that throws is logged and the others still run. */
  emit: <E extends keyof ControlEvents>(event: E, ...args: Parameters<ControlEvents[E]>) => void;
  on: <E extends keyof ControlEvents>(event: E, listener: ControlEvents[E]) => Unsubscribe;
}

export function createEventHub(logger: Logger): EventHub {
  const listeners: Listeners = {
    jobStarted: new Set(),
    jobProgress: new Set(),
    jobFinished: new Set(),
    jobChanged: new Set(),
    jobAdded: new Set(),
    jobRemoved: new Set(),
    serviceChanged: new Set(),
    configReloaded: new Set(),
  };

  function emit<E extends keyof ControlEvents>(event: E, ...args: Parameters<ControlEvents[E]>): void {
    for (const listener of [...listeners[event]]) {
      try {
        (listener as (...a: Parameters<ControlEvents[E]>) => void)(...args);
      } catch (e: unknown) {
        logger.error('event listener failed', { event, error: errorText(e) });
      }
    }
  }

  function on<E extends keyof ControlEvents>(event: E, listener: ControlEvents[E]): Unsubscribe {
    const set = listeners[event] as Set<typeof listener>;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  return { emit, on };
}
