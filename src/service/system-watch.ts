// The service's view of the machine (issues 16 and 17): one system-bus monitor per service process
// (src/platform/system-monitor.ts satisfies this port), handed to the service after READY by the daemon
// (Service.attachSystem). Catch-up runs (catch-up.ts) subscribe to it; run conditions may subscribe the same way.
// The standalone service inside rbmctl has none.
import type { SystemFacts } from '../sysbus/facts.js';

/** What the daemon hands the service: the watch, and when its first reading is done (never rejects). */
export interface ServiceSystem extends SystemWatch {
  readonly ready: Promise<void>;
}

export interface SystemWatch {
  /** The current facts (every part unavailable until the first reading, or without a system bus). */
  facts(): SystemFacts;
  /** After each change of the facts, with the facts before it. Returns the unsubscribe function. */
  on(event: 'change', listener: (facts: SystemFacts, before: SystemFacts) => void): () => void;
  /** logind's PrepareForSleep: true right before a suspend, false after the resume. */
  on(event: 'sleep', listener: (preparing: boolean) => void): () => void;
}
