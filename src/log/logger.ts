// The only winston user: main log and error log files (0600 in a 0700 dir, size-bounded), and optionally the
// terminal: `<N>` sd-daemon priority prefixes without timestamps under the journal, a human format otherwise.

import { mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import type { LogMeta, Logger } from '../ports.js';
import { redactText, redactValue } from './redact.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  /** Directory of rclone-bisync-manager.log and error.log; undefined → no files. */
  logDir: string | undefined;
  /** Mirror to the terminal (--console-log). */
  console: boolean;
  /** Running under systemd with JOURNAL_STREAM set: stdout with `<N>` prefixes, no timestamps. */
  journal: boolean;
  /** Where the journal lines go (default stdout; tests pass their own). */
  journalStream?: NodeJS.WritableStream;
  level: LogLevel;
  /** Per-file size bound in bytes (default 10 MiB) and rotated files kept (default 5). */
  maxSize?: number;
  maxFiles?: number;
}

export const MAIN_LOG_NAME = 'rclone-bisync-manager.log';
export const ERROR_LOG_NAME = 'error.log';
const PRIORITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };

const redactFormat = winston.format((info) => {
  const out = info;
  if (typeof out.message === 'string') out.message = redactText(out.message);
  for (const key of Object.keys(out)) {
    if (key === 'level' || key === 'message' || key === 'timestamp') continue;
    out[key] = redactValue(out[key]);
  }
  return out;
});

function metaText(info: winston.Logform.TransformableInfo): string {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(info)) {
    if (key === 'level' || key === 'message' || key === 'timestamp') continue;
    rest[key] = value;
  }
  const { job, runId, ...others } = rest;
  const label = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));
  const head = job !== undefined ? `[${label(job)}${runId !== undefined ? `#${label(runId)}` : ''}] ` : '';
  const tail = Object.keys(others).length > 0 ? ` ${JSON.stringify(others)}` : '';
  return `${head}${String(info.message)}${tail}`;
}

const humanFormat = winston.format.printf((info) => `${String(info.timestamp)} ${info.level.toUpperCase().padEnd(5)} ${metaText(info)}`);
const journalFormat = winston.format.printf((info) => `<${PRIORITY[info.level] ?? 6}>${metaText(info)}`);

/** Shared by a logger and its children: once the files are closed, nothing may be written. */
interface LifeCycle {
  closed: boolean;
}

function wrap(logger: winston.Logger, life: LifeCycle): Logger {
  const call = (level: LogLevel) => (message: string, meta?: LogMeta): void => {
    // A late line (a child process's last output after the end of a one-shot run) is dropped: winston throws
    // `write after end` from a stream handler, which would crash the process after its work is done.
    if (life.closed) return;
    logger.log(level, message, meta ?? {});
  };
  return {
    debug: call('debug'),
    info: call('info'),
    warn: call('warn'),
    error: call('error'),
    child: (meta: LogMeta): Logger => wrap(logger.child(meta), life),
  };
}

export interface ClosableLogger extends Logger {
  /** Flush and close the files (end of process, tests). Lines logged afterwards are dropped. */
  close(): Promise<void>;
}

export function createLogger(options: LoggerOptions): ClosableLogger {
  const transports: winston.transport[] = [];
  const fileOpts = { maxsize: options.maxSize ?? 10 * 1024 * 1024, maxFiles: options.maxFiles ?? 5, tailable: true, options: { flags: 'a', mode: 0o600 } };
  if (options.logDir !== undefined) {
    mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
    chmodSync(options.logDir, 0o700);
    const fileFormat = winston.format.combine(winston.format.timestamp(), humanFormat);
    transports.push(new winston.transports.File({ ...fileOpts, filename: join(options.logDir, MAIN_LOG_NAME), format: fileFormat }));
    transports.push(new winston.transports.File({ ...fileOpts, filename: join(options.logDir, ERROR_LOG_NAME), level: 'error', format: fileFormat }));
  }
  if (options.journal) {
    transports.push(new winston.transports.Stream({ stream: options.journalStream ?? process.stdout, format: journalFormat }));
  } else if (options.console) {
    transports.push(new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'], format: winston.format.combine(winston.format.timestamp({ format: 'HH:mm:ss' }), humanFormat) }));
  }
  const logger = winston.createLogger({
    level: options.level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: redactFormat(),
    transports,
    silent: transports.length === 0,
    exitOnError: false,
  });
  const life: LifeCycle = { closed: false };
  return {
    ...wrap(logger, life),
    close(): Promise<void> {
      if (life.closed) return Promise.resolve();
      life.closed = true;
      return new Promise((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
      });
    },
  };
}
