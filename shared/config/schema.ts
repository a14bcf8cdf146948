/**
 * The one schema: the config file, transfer requests (API, CLI, events, state machine input) and
 * the JSON Schema for editors all derive from here.
 */
import * as z from 'zod';
import { PricingOverride } from '../cost/prices.js';
import {
  fsxPathProblem,
  fsxPathsOverlap,
  parseS3Uri,
  SAFE_FILTER_PATTERN,
  SAFE_FILTER_RULE,
  s3LocationsOverlap,
  s3UriProblem,
  subPathProblem,
} from '../paths.js';

/**
 * Attach a path-rule check (a function returning the violated rule or undefined) to a string
 * schema. `pattern` is a looser regex for the generated JSON Schema only (editors get a hint; the
 * function stays the rule).
 */
const ruled = (problem: (value: string) => string | undefined, pattern: RegExp) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const message = problem(value);
      if (message) ctx.addIssue({ code: 'custom', message });
    })
    .meta({ pattern: pattern.source });

export const FileSystemId = z
  .string()
  .regex(/^fs-[0-9a-f]{8,17}$/, 'must be a file system id like fs-0123456789abcdef0');
export const Region = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region like us-east-1');
export const AccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
export const S3Uri = ruled(
  s3UriProblem,
  /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9._/+=@,:~-]*)?$/,
);
export const FsxPath = ruled(fsxPathProblem, /^\/[A-Za-z0-9._/+=@,:~-]*$/);
export const SubPath = ruled(subPathProblem, /^(?!\/)[A-Za-z0-9._/+=@,:~-]*$/);
export const Filter = z.string().min(1).max(256).regex(SAFE_FILTER_PATTERN, SAFE_FILTER_RULE);
export const MappingName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,39}$/,
    'must be 1-40 lowercase letters, digits or hyphens, starting with a letter or digit',
  );

/** `stage-in` copies S3 -> FSx; `export` copies FSx -> S3. */
export const Direction = z.enum(['stage-in', 'export']);
export type Direction = z.infer<typeof Direction>;
export const Method = z.enum(['auto', 'dra', 'ec2']);
export type Method = z.infer<typeof Method>;
/**
 * What verification checks after a transfer (docs/verification.md): `size` names and sizes on both
 * sides (the default, for speed), `checksum` also the content of every transferred file end to end,
 * `none` nothing (only when asked for explicitly).
 */
export const VerifyMode = z.enum(['size', 'checksum', 'none']);
export type VerifyMode = z.infer<typeof VerifyMode>;

/**
 * The most minutes `timeouts.transferMinutes` and `timeouts.maxRunMinutes` accept: 90 days. A run's
 * waits may last 1.5 x its time + 1 h (shared/plan/deadline.ts), after up to 24 h of settling and
 * up to maxRunMinutes + 1 h in line at the gate: all of it stays inside a standard workflow's
 * one-year limit (the execution's backstop is 340 days).
 */
export const MAX_RUN_MINUTES = 90 * 24 * 60;

const InstanceType = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type like c6i.large');

export const FileSystemConfig = z.strictObject({
  id: FileSystemId,
  region: Region.optional().describe('Defaults to the top-level region'),
  mountPoint: FsxPath.default('/fsx').describe('Where transfer instances mount the file system'),
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id like subnet-0123abcd'))
    .min(1)
    .describe('Subnets of the file system VPC, tried in order for transfer instances'),
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id like sg-0123abcd'))
    .min(1)
    .describe('Security groups that allow Lustre traffic (TCP 988, 1018-1023) to the file system'),
  lustreClientInstanceId: z
    .string()
    .regex(/^i-[0-9a-f]{8,17}$/, 'must be an instance id like i-0123abcd')
    .optional()
    .describe('An instance that mounts the file system, used to verify and preload staged files through SSM'),
  dataRepositoryRoleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
    .optional()
    .describe('Role FSx uses to reach S3, checked for s3:GetObject, s3:PutObject and s3:ListBucket'),
});
export type FileSystemConfig = z.infer<typeof FileSystemConfig>;

export const ScheduleConfig = z.strictObject({
  expression: z
    .string()
    .regex(
      /^(cron|rate)\(.+\)$/,
      'must be an EventBridge schedule expression like cron(0 2 * * ? *) or rate(1 day)',
    ),
  direction: Direction,
  subPath: SubPath.optional(),
});

export const MappingConfig = z.strictObject({
  name: MappingName,
  fileSystemId: FileSystemId,
  fsxPath: FsxPath.describe('Absolute path on the file system (the DRA file system path)'),
  s3Uri: S3Uri.describe('s3://bucket/prefix (the DRA data repository path)'),
  directions: z.array(Direction).min(1).default(['stage-in', 'export']),
  method: Method.default('auto'),
  include: z.array(Filter).default([]),
  exclude: z.array(Filter).default([]),
  delete: z.boolean().default(false).describe('Opt in to deleting destination files missing from the source'),
  verify: VerifyMode.default('size').describe(
    'What verification checks: size (names and sizes), checksum (also the content of every file), none',
  ),
  autoExport: z
    .boolean()
    .default(false)
    .describe('Create the DRA with an AutoExportPolicy (import-only by default)'),
  preload: z
    .boolean()
    .default(false)
    .describe('Restore file contents after a DRA stage-in (lfs hsm_restore)'),
  release: z
    .boolean()
    .default(false)
    .describe('Release exported file contents from FSx after a verified export'),
  schedules: z.array(ScheduleConfig).default([]),
  autoStage: z
    .boolean()
    .default(false)
    .describe(
      'Stage new and changed S3 objects under s3Uri automatically (S3 events through EventBridge); needs the stage-in direction',
    ),
});
export type MappingConfig = z.infer<typeof MappingConfig>;

export const DefaultsConfig = z.strictObject({
  instanceType: InstanceType.default('c6i.large'),
  fallbackInstanceTypes: z.array(InstanceType).default(['c6a.large', 'm6i.large']),
  instanceProfileName: z.string().min(1).max(128).optional(),
  amiParameter: z
    .string()
    .startsWith('/')
    .default('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'),
  timeouts: z
    .strictObject({
      transferMinutes: z
        .number()
        .int()
        .positive()
        .max(MAX_RUN_MINUTES)
        .default(240)
        .describe(
          "Least time a run may take once it has its turn; the run's deadline is this or the plan's own estimate x 2, whichever is longer (docs/planning.md), capped at maxRunMinutes",
        ),
      maxRunMinutes: z
        .number()
        .int()
        .positive()
        .max(MAX_RUN_MINUTES)
        .default(20_160)
        .describe(
          "Most time a run may take once it has its turn, whatever its estimate (default 14 days; at most 90 days, which keeps every wait derived from it inside Step Functions' one-year execution limit)",
        ),
      agentOnlineMinutes: z.number().int().positive().max(60).default(15),
      associationMinutes: z.number().int().positive().max(240).default(60),
    })
    .refine((timeouts) => timeouts.transferMinutes <= timeouts.maxRunMinutes, {
      path: ['transferMinutes'],
      message: 'must not exceed maxRunMinutes (raise maxRunMinutes too)',
    })
    .default({ transferMinutes: 240, maxRunMinutes: 20_160, agentOnlineMinutes: 15, associationMinutes: 60 }),
  autoStage: z
    .strictObject({
      quietSeconds: z
        .number()
        .int()
        .min(1)
        .max(3600)
        .default(60)
        .describe(
          'An event-started run waits until no new event arrived for this long, so one upload starts one run',
        ),
      maxSettleMinutes: z
        .number()
        .int()
        .positive()
        .max(1440)
        .default(30)
        .describe('...but starts after this long even if events keep coming'),
    })
    .default({ quietSeconds: 60, maxSettleMinutes: 30 }),
  reportPath: S3Uri.optional().describe(
    'Where data repository task completion reports go (defaults to the mapping bucket)',
  ),
  scaleOut: z
    .strictObject({
      maxInstances: z
        .number()
        .int()
        .min(1)
        .max(16)
        .default(4)
        .describe(
          'Most transfer instances one EC2 stage-in runs in parallel (key ranges of the scope); the planner asks for more only when one instance cannot reach the file system throughput; 1 turns scale-out off',
        ),
    })
    .default({ maxInstances: 4 }),
});

export const ConfigSchema = z
  .strictObject({
    version: z.literal(1),
    region: Region,
    accountId: AccountId.optional().describe('Expected AWS account; checked against the caller identity'),
    fileSystems: z.array(FileSystemConfig).min(1),
    mappings: z.array(MappingConfig).min(1),
    defaults: DefaultsConfig.default(DefaultsConfig.parse({})),
    pricing: PricingOverride.optional(),
  })
  .superRefine((config, ctx) => {
    /** Reports every repeated value (after its first occurrence) at `<list>[i].<field>`. */
    const unique = (list: 'fileSystems' | 'mappings', field: string, values: string[], what: string) => {
      const seen = new Set<string>();
      values.forEach((value, i) => {
        if (seen.has(value))
          ctx.addIssue({ code: 'custom', path: [list, i, field], message: `duplicate ${what} ${value}` });
        seen.add(value);
      });
      return seen;
    };
    const ids = unique(
      'fileSystems',
      'id',
      config.fileSystems.map((fs) => fs.id),
      'file system',
    );
    unique(
      'mappings',
      'name',
      config.mappings.map((m) => m.name),
      'mapping name',
    );
    const draMappings = new Map<string, number>();
    config.mappings.forEach((mapping, i) => {
      mapping.schedules.forEach((schedule, j) => {
        if (!mapping.directions.includes(schedule.direction)) {
          ctx.addIssue({
            code: 'custom',
            path: ['mappings', i, 'schedules', j, 'direction'],
            message: `${schedule.direction} is not one of the mapping's directions (${mapping.directions.join(', ')})`,
          });
        }
      });
      if (mapping.autoStage && !mapping.directions.includes('stage-in')) {
        ctx.addIssue({
          code: 'custom',
          path: ['mappings', i, 'autoStage'],
          message: `autoStage stages new S3 objects, so the mapping needs the stage-in direction (it has ${mapping.directions.join(', ')})`,
        });
      }
      if (mapping.autoStage && mapping.directions.includes('export')) {
        ctx.addIssue({
          code: 'custom',
          path: ['mappings', i, 'autoStage'],
          message:
            'a mapping staged on S3 events must not also be exported to (every exported object would start a stage-in); use one mapping for input and another for output',
        });
      }
      // At most 8 DRAs per file system. Only `dra` mappings must get one; `auto` falls back to EC2.
      if (mapping.method === 'dra') {
        const count = (draMappings.get(mapping.fileSystemId) ?? 0) + 1;
        draMappings.set(mapping.fileSystemId, count);
        if (count === 9) {
          ctx.addIssue({
            code: 'custom',
            path: ['mappings', i, 'method'],
            message: `a file system has at most 8 data repository associations; use method auto or ec2 for the 9th and later dra mappings on ${mapping.fileSystemId}`,
          });
        }
      }
      if (!ids.has(mapping.fileSystemId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['mappings', i, 'fileSystemId'],
          message: `unknown file system ${mapping.fileSystemId}; declare it under fileSystems`,
        });
      }
      // Mappings on one file system follow the DRA rule: neither paths nor S3 prefixes may overlap.
      config.mappings.slice(0, i).forEach((other) => {
        if (other.fileSystemId !== mapping.fileSystemId) return;
        if (fsxPathsOverlap(other.fsxPath, mapping.fsxPath)) {
          ctx.addIssue({
            code: 'custom',
            path: ['mappings', i, 'fsxPath'],
            message: `overlaps mapping ${other.name} (${other.fsxPath}); file system paths on one file system must not contain each other`,
          });
        }
        // An invalid URI has its own issue (the refinement runs after field errors too).
        if (s3UriProblem(other.s3Uri) || s3UriProblem(mapping.s3Uri)) return;
        if (s3LocationsOverlap(parseS3Uri(other.s3Uri), parseS3Uri(mapping.s3Uri))) {
          ctx.addIssue({
            code: 'custom',
            path: ['mappings', i, 's3Uri'],
            message: `overlaps mapping ${other.name} (${other.s3Uri}); S3 prefixes linked to one file system must not contain each other`,
          });
        }
      });
    });
  });
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Who asked for a run: recorded with it and shown by the API and the CLI. */
export const Trigger = z.enum(['api', 'cli', 's3-event', 'schedule']);
export type Trigger = z.infer<typeof Trigger>;

/** A transfer request, as accepted by the API, the CLI, events and the state machine. */
export const TransferRequest = z.strictObject({
  mapping: MappingName,
  direction: Direction,
  subPath: SubPath.optional().describe('Only transfer this folder, relative to the mapping'),
  method: Method.optional().describe('Overrides the mapping method'),
  delete: z.boolean().optional().describe('Overrides the mapping delete opt-in'),
  verify: VerifyMode.optional().describe('Overrides the mapping verification mode (size, checksum, none)'),
  dryRun: z.boolean().optional(),
  transferId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
    .optional()
    .describe('Idempotency key: the same id never starts a second run'),
  trigger: Trigger.optional().describe(
    'Set by the trigger that started the run (api, cli, s3-event, schedule)',
  ),
});
export type TransferRequest = z.infer<typeof TransferRequest>;
