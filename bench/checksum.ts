// Measure 8: what the checksum compare costs (issue 12.8). Two local↔local jobs over identical trees, one comparing
// checksums (--compare=size,modtime,checksum, what the default passes for a remote with 1 s modtimes; on local disks
// the default leaves it out since session 6, so this job asks for it in its bisync_options) and one with
// checksum_compare: false; each is timed through the service (Sync → JobFinished) and against plain rclone, i.e. the
// service's own argv of the job without checksums run directly, in the same session, alternating the order. The argv
// are learned as in measure 1.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { connectClient } from './client.js';
import type { BusClient } from './client.js';
import { changeFiles, copyTree, makeTree } from './fixtures.js';
import { toJson } from './json.js';
import { isBisync, readSpawnRecords, runDirect, writeSpawnWrapper } from './rclone.js';
import { rowFrom, rowValue, section } from './report.js';
import type { SectionResult } from './report.js';
import { farSchedule } from './service.js';
import type { JobSpec } from './service.js';
import { summarize } from './stats.js';
import { timedSync } from './sync-call.js';

const GOOD = new Set(['success', 'no-changes']);
const COMPARE = '--compare=size,modtime,checksum';

async function syncOk(client: BusClient, job: string): Promise<number> {
  const r = await timedSync(client, job);
  if (!GOOD.has(r.result)) throw new Error(`Sync ${job} finished with ${r.result}: ${toJson(r.details)}`);
  return r.ms;
}

export async function measureChecksum(ctx: BenchContext): Promise<SectionResult> {
  const s = section('checksum', '8. Checksum compare: Sync → JobFinished with and without it ÷ plain rclone bisync');
  const files = ctx.quick ? 150 : 10_000;
  const world = ctx.world('checksum');
  const schedule = farSchedule();
  const jobs: JobSpec[] = [
    { name: 'sums', local: 'sums', path2: join(world.dir, 'remote', 'sums'), schedule, extraLines: ['    bisync_options:', '      compare: size,modtime,checksum'] },
    { name: 'plain', local: 'plain', path2: join(world.dir, 'remote', 'plain'), schedule, checksumCompare: false },
  ];
  ctx.progress(`checksum: building two ${files}-file trees`);
  mkdirSync(join(world.dir, 'remote'), { recursive: true });
  for (const job of jobs) {
    makeTree(join(world.syncRoot, job.local), files);
    copyTree(join(world.syncRoot, job.local), job.path2);
  }

  // Phase 1: the argv the service spawns for each job (after its resync and a first bisync).
  const spawnLog = join(world.dir, 'spawns.log');
  world.writeConfig(jobs, { rcloneBinary: writeSpawnWrapper(world.dir, ctx.rclone.path, spawnLog), maxParallel: 2 });
  const argvOf = new Map<string, string[]>();
  {
    const svc = world.start();
    await svc.ready();
    const client = await connectClient(ctx.bus.address);
    try {
      for (const job of jobs) {
        await syncOk(client, job.name);
        await syncOk(client, job.name);
        const path1 = join(world.syncRoot, job.local);
        const argv = readSpawnRecords(spawnLog).filter((r) => isBisync(r) && r.argv[1] === path1).at(-1)?.argv;
        if (!argv || argv.includes('--resync')) throw new Error(`no plain bisync recorded for ${job.name}`);
        argvOf.set(job.name, argv);
      }
    } finally {
      client.close();
      await svc.stop();
    }
  }
  const plainArgv = argvOf.get('plain')!;
  const sumsArgv = argvOf.get('sums')!;
  if (plainArgv.includes(COMPARE) || !sumsArgv.includes(COMPARE)) throw new Error(`unexpected compare flags: sums ${sumsArgv.join(' ')} / plain ${plainArgv.join(' ')}`);

  // Phase 2: the real rclone; per round every variant once, the order rotating.
  world.writeConfig(jobs, { rcloneBinary: ctx.rclone.path, maxParallel: 2 });
  const svc = world.start();
  await svc.ready();
  const client = await connectClient(ctx.bus.address);
  let round = 1;
  try {
    for (const changed of [0, 100]) {
      const label = `${files.toLocaleString('en-US')} files local↔local, ${changed === 0 ? 'no change' : `${changed} changed`}`;
      const runs = ctx.quick ? 1 : 5;
      ctx.progress(`checksum: ${label}, ${runs} rounds`);
      const edit = (job: string): void => {
        if (changed > 0) changeFiles(join(world.syncRoot, job), files, changed, round++);
      };
      const viaService = (job: string) => (): Promise<number> => {
        edit(job);
        return syncOk(client, job);
      };
      const viaRclone = (job: string, argv: readonly string[]) => (): Promise<number> => {
        edit(job);
        return direct(ctx, argv, world.env);
      };
      const variants: { name: string; samples: number[]; run: () => Promise<number> }[] = [
        { name: 'service, checksums compared', samples: [], run: viaService('sums') },
        { name: 'service, checksum_compare: false', samples: [], run: viaService('plain') },
        { name: 'rclone bisync direct, plain', samples: [], run: viaRclone('plain', plainArgv) },
        { name: `rclone bisync direct, ${COMPARE}`, samples: [], run: viaRclone('sums', sumsArgv) },
      ];
      if (!ctx.quick) for (const v of variants) await v.run(); // warm-up, not counted
      for (let i = 0; i < runs; i++) {
        for (let k = 0; k < variants.length; k++) {
          const v = variants[(i + k) % variants.length]!;
          v.samples.push(await v.run());
        }
      }
      for (const v of variants) s.rows.push(rowFrom(`${label}: ${v.name}`, 'ms', v.samples));
      const plain = summarize(variants[2]!.samples).median;
      for (const v of [variants[0]!, variants[1]!, variants[3]!]) {
        const m = summarize(v.samples).median;
        s.rows.push(rowValue(`${label}: ${v.name} ÷ plain rclone`, 'ratio', m / plain, `${m >= plain ? '+' : ''}${(m - plain).toFixed(0)} ms`));
      }
    }
  } finally {
    client.close();
    await svc.stop();
  }
  s.notes.push(`plain rclone = the service's own argv for the job with checksum_compare: false, run directly with output discarded; the checksum job's argv adds ${COMPARE} (as the default does for a remote with 1 s modtimes; on local disks the default leaves it out).`);
  s.notes.push('Each file is 1 KiB, so the figures show the per-file cost of hashing (open, read, md5) more than the per-byte one.');
  return s;
}

async function direct(ctx: BenchContext, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const r = await runDirect(ctx.rclone.path, argv, env);
  if (r.code !== 0) throw new Error(`direct rclone exited with ${r.code}: ${argv.join(' ')}`);
  return r.ms;
}
