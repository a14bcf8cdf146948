/**
 * The plan contract: what `Validate` returns and every later state consumes (at `$.plan`). One zod
 * schema; the type is inferred from it, and each step checks the part it reads with a `.pick()` of
 * it (shared/dra/steps.ts, shared/ec2/steps.ts). Kept small and JSON-serialisable: it travels
 * through Step Functions state (256 KB limit).
 */
import * as z from 'zod';
import { Direction, VerifyMode } from '../config/schema.js';
import type { Verification } from '../verify/content.js';

export const ResolvedMethod = z.enum(['dra', 'ec2']);
export type ResolvedMethod = z.infer<typeof ResolvedMethod>;

/** One checked prerequisite: a code a user can search for, what was seen, and the fix. */
/**
 * How a check came out: `ok`, `warn` (holds, with something to look at), `fail`, or `skipped` (it
 * could not be made; the message says why). Only `fail` has `ok: false`.
 */
export const CheckStatus = z.enum(['ok', 'warn', 'fail', 'skipped']);
export type CheckStatus = z.infer<typeof CheckStatus>;

export const Reason = z.object({
  code: z.string().min(1),
  ok: z.boolean(),
  status: CheckStatus.optional(),
  message: z.string(),
  seen: z.record(z.string(), z.unknown()).optional(),
  fix: z.string().optional(),
});
export type Reason = z.infer<typeof Reason>;

export const PlannedFileSystem = z.object({
  id: z.string().min(1),
  region: z.string().min(1),
  dnsName: z.string().min(1),
  mountName: z.string().min(1),
  lustreVersion: z.string(),
  deploymentType: z.string(),
  mountPoint: z.string().startsWith('/'),
  subnetIds: z.array(z.string()).min(1),
  securityGroupIds: z.array(z.string()).min(1),
  vpcId: z.string().optional(),
  lustreClientInstanceId: z.string().optional(),
  dataRepositoryRoleArn: z.string().optional(),
  /** StorageCapacity and PerUnitStorageThroughput: the file system throughput scale-out aims at. */
  storageCapacityGiB: z.number().optional(),
  perUnitStorageThroughput: z.number().optional(),
});
export type PlannedFileSystem = z.infer<typeof PlannedFileSystem>;

export const TransferPlan = z.object({
  /** Stable id of the request (idempotency key; derives tokens and names). */
  transferId: z.string().min(1),
  /** Step Functions execution name, when known ($$.Execution.Name). */
  executionName: z.string().min(1).optional(),
  mapping: z.string().min(1),
  direction: Direction,
  method: ResolvedMethod,
  /** `auto` resolutions and failed prerequisites, in check order. */
  methodReasons: z.array(Reason),
  fileSystem: PlannedFileSystem,
  scope: z.object({
    /** Absolute path on the file system (below the mapping's fsxPath). */
    fsxPath: z.string().startsWith('/'),
    /** The mapping's file system path (the DRA file system path). */
    mappingFsxPath: z.string().startsWith('/'),
    /** The mapping's S3 URI (the DRA data repository path). */
    mappingS3Uri: z.string().startsWith('s3://'),
    bucket: z.string().min(1),
    /** Key prefix of the scope, no leading or trailing slash. */
    prefix: z.string(),
  }),
  options: z.object({
    delete: z.boolean(),
    /** The verification mode (request over mapping); `size` for plans made before it existed. */
    verify: VerifyMode.default('size'),
    include: z.array(z.string()),
    exclude: z.array(z.string()),
    preload: z.boolean(),
    release: z.boolean(),
    autoExport: z.boolean(),
    dryRun: z.boolean(),
  }),
  instance: z.object({
    instanceType: z.string().min(1),
    fallbackInstanceTypes: z.array(z.string()),
    amiParameter: z.string().startsWith('/'),
    instanceProfileName: z.string().optional(),
  }),
  /**
   * ISO time after which the run is overdue (instance watchdog, sweeper, waits): `runMinutes` after
   * the run's turn (WaitForTurn sets it again when the run gets its turn).
   */
  deadline: z.iso.datetime(),
  timeouts: z.object({
    transferMinutes: z.number(),
    maxRunMinutes: z.number().optional(),
    /**
     * Minutes from the run's turn to its deadline (shared/plan/deadline.ts `runBudget`): the longer
     * of transferMinutes and the estimate with its margin, capped at maxRunMinutes. Absent in plans
     * made before it existed (they ran for transferMinutes).
     */
    runMinutes: z.number().int().positive().optional(),
    /** Why runMinutes is what it is (which bound won). */
    runReason: z.string().optional(),
    agentOnlineMinutes: z.number(),
    associationMinutes: z.number(),
    /**
     * TimeoutSeconds of each DRA wait and of the transfer command's wait (TimeoutSecondsPath
     * `$.plan.timeouts.waitSeconds`): the run's time with a generous margin. The poller ends a wait
     * at the deadline itself (TransferTimeoutError); this only bounds a wait whose poller
     * heartbeats but never reports, or a callback that never comes.
     */
    waitSeconds: z.number().int().positive(),
    /** TimeoutSeconds of WaitForTurn (`$.plan.timeouts.turnSeconds`): shared/plan/deadline.ts turnSeconds. */
    turnSeconds: z.number().int().positive(),
  }),
  /** The plan's own estimate of the run (a stage-in's listed scope), when there is one. */
  estimate: z
    .object({
      seconds: z.number().nonnegative(),
      files: z.number().int().nonnegative(),
      bytes: z.number().nonnegative(),
      source: z.enum(['s3-listing', 'partial-listing', 'given']),
    })
    .optional(),
});
export type TransferPlan = z.infer<typeof TransferPlan>;

/** What a run reports when it ends (the execution output; the demo and CLI print it). */
export interface TransferSummary {
  transferId: string;
  mapping: string;
  direction: Direction;
  method: ResolvedMethod;
  status: 'SUCCEEDED' | 'FAILED';
  files: number;
  bytes: number;
  verified: boolean;
  /** What verification covered: its mode and how many files were checked by content or by size only. */
  verification?: Verification;
  methodReasons: Reason[];
  details?: Record<string, unknown>;
}
