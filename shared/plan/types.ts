/**
 * The plan: what `Validate` returns and every later state consumes (at `$.plan`). Kept small and
 * JSON-serialisable: it travels through Step Functions state (256 KB limit).
 */
import type { Direction } from '../config/schema.js';

export type ResolvedMethod = 'dra' | 'ec2';

/** One checked prerequisite: a code a user can search for, what was seen, and the fix. */
export interface Reason {
  code: string;
  ok: boolean;
  message: string;
  seen?: Record<string, unknown>;
  fix?: string;
}

export interface PlannedFileSystem {
  id: string;
  region: string;
  dnsName: string;
  mountName: string;
  lustreVersion: string;
  deploymentType: string;
  mountPoint: string;
  subnetIds: string[];
  securityGroupIds: string[];
  vpcId?: string;
  lustreClientInstanceId?: string;
  dataRepositoryRoleArn?: string;
}

export interface TransferPlan {
  /** Stable id of the request (idempotency key; derives tokens and names). */
  transferId: string;
  /** Step Functions execution name, when known ($$.Execution.Name). */
  executionName?: string;
  mapping: string;
  direction: Direction;
  method: ResolvedMethod;
  /** `auto` resolutions and failed prerequisites, in check order. */
  methodReasons: Reason[];
  fileSystem: PlannedFileSystem;
  scope: {
    /** Absolute path on the file system (below the mapping's fsxPath). */
    fsxPath: string;
    /** The mapping's file system path (the DRA file system path). */
    mappingFsxPath: string;
    /** The mapping's S3 URI (the DRA data repository path). */
    mappingS3Uri: string;
    bucket: string;
    /** Key prefix of the scope, no leading or trailing slash. */
    prefix: string;
  };
  options: {
    delete: boolean;
    include: string[];
    exclude: string[];
    preload: boolean;
    release: boolean;
    autoExport: boolean;
    dryRun: boolean;
  };
  instance: {
    instanceType: string;
    fallbackInstanceTypes: string[];
    amiParameter: string;
    instanceProfileName?: string;
  };
  /** ISO time after which the run is overdue (instance watchdog, sweeper, waits). */
  deadline: string;
  timeouts: { transferMinutes: number; agentOnlineMinutes: number; associationMinutes: number };
}

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
  methodReasons: Reason[];
  details?: Record<string, unknown>;
}
