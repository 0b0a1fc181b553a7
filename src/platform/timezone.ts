// The zone cron schedules are read in: the system's, resolved once by the composition root and handed to the
// scheduler, so the scheduler never reads the process's TZ itself (croner would, given no zone).

/** The zone when nothing usable is found (Node built without full ICU, or an unknown zone). */
const FALLBACK_TIMEZONE = 'UTC';

/** True when Intl (and so croner) knows `zone` as a time zone name. */
function isKnownTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The system's time zone as an IANA name: `TZ` from `env` when it names a zone (glibc's leading ':' allowed), else
 * the zone the process resolved (from /etc/localtime, or a TZ only the C library understands), else UTC.
 */
export function systemTimezone(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env.TZ?.replace(/^:/, '') ?? '';
  if (fromEnv !== '' && isKnownTimezone(fromEnv)) return fromEnv;
  const resolved = Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined;
  return resolved !== undefined && isKnownTimezone(resolved) ? resolved : FALLBACK_TIMEZONE;
}
