/**
 * Values serverless.yml derives from the config file at package time (through
 * scripts/sls/config.cjs): where the bundled config lives, and the ARNs that scope every IAM
 * statement to what the config names (file systems, buckets, prefixes, subnets ...). Values are
 * CloudFormation expressions built with Fn::Join and Ref (never `${...}` strings, which the
 * Serverless variable resolver would try to resolve).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type { Config } from '../../shared/config/schema.js';
import { REPORT_FOLDER } from '../../shared/dra/tasks.js';
import { parseS3Uri } from '../../shared/paths.js';
import { s3EventPattern } from '../../shared/triggers/s3-events.js';

type CfnValue = string | Record<string, unknown>;

const PARTITION = { Ref: 'AWS::Partition' };
const ACCOUNT = { Ref: 'AWS::AccountId' };

/** `arn:<partition>:<service>:<region>:<account>:<resource>` as a CloudFormation value. */
export function arn(
  service: string,
  region: string,
  resource: string,
  account: CfnValue = ACCOUNT,
): CfnValue {
  return { 'Fn::Join': ['', ['arn:', PARTITION, `:${service}:${region}:`, account, `:${resource}`]] };
}

function s3Arn(resource: string): CfnValue {
  return { 'Fn::Join': ['', ['arn:', PARTITION, `:s3:::${resource}`]] };
}

function unique<T>(values: T[]): T[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = JSON.stringify(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The config path to bundle, relative to the service directory (the same relative path is the
 * Lambda's `FSX_TRANSFER_CONFIG`, resolved against /var/task).
 * @throws Error when the file lies outside the service directory (it could not be bundled).
 */
export function bundledConfigPath(serviceDir: string, configFile: string): string {
  const path = relative(serviceDir, resolve(serviceDir, configFile));
  if (path.startsWith('..') || isAbsolute(path)) {
    throw new Error(
      `${configFile}: the config file must be inside the project directory to be bundled with the functions`,
    );
  }
  return path.split('\\').join('/');
}

export interface DeploymentValues {
  /** Config file path relative to the service directory (bundled, and FSX_TRANSFER_CONFIG on Lambda). */
  file: string;
  region: string;
  iam: {
    fileSystemArns: CfnValue[];
    /** Data repository associations of the configured file systems (`association/<fs-id>/*`). */
    associationArns: CfnValue[];
    /** Data repository tasks in the configured regions (task ARNs do not name the file system). */
    taskArns: CfnValue[];
    /** `AWSServiceRoleForFSxS3Access_<fs-id>`, which FSx creates or updates with the first DRA. */
    fsxS3ServiceLinkedRoleArns: CfnValue[];
    bucketArns: CfnValue[];
    /** Objects below every mapped prefix (`bucket/prefix/*`). */
    objectArns: CfnValue[];
    /**
     * fsx-transfer's own objects in every mapped bucket (`bucket/.fsx-transfer/*`): the file system
     * listings transfer instances write for verification (EC2 method).
     */
    transferListingArns: CfnValue[];
    /** The progress objects transfer instances publish (`bucket/.fsx-transfer/progress/*`), read by GET /transfers/{id}. */
    transferProgressArns: CfnValue[];
    /**
     * Where data repository task completion reports are read: `defaults.reportPath`, else the
     * report folder under every mapped prefix (`bucket/prefix/fsx-transfer-reports/*`).
     */
    reportObjectArns: CfnValue[];
    /** Buckets of the report locations (listed to find a report file FSx named differently). */
    reportBucketArns: CfnValue[];
    /** The configured AMI parameter (`defaults.amiParameter`); public `/aws/service/` ones have no account. */
    amiParameterArns: CfnValue[];
    subnetArns: CfnValue[];
    securityGroupArns: CfnValue[];
    /** Instances that mount a file system (config `lustreClientInstanceId`); may be empty. */
    lustreClientInstanceArns: CfnValue[];
    /**
     * What ssm:SendCommand on the Lustre clients touches: the AWS-RunShellScript document plus the
     * client instances (never empty, so the DRA functions' statement stays valid without clients).
     */
    lustreClientCommandArns: CfnValue[];
    /** Roles FSx uses for the DRAs (config `dataRepositoryRoleArn`); may be empty. */
    dataRepositoryRoleArns: CfnValue[];
  };
  /** serverless-step-functions `events` for the transfer state machine: one per config schedule. */
  scheduleEvents: Array<{
    schedule: { rate: string; enabled: boolean; description: string; input: Record<string, string> };
  }>;
  /** EventPattern of the S3 event rule: Object Created/Deleted under every mapping with autoStage. */
  s3EventPattern: Record<string, unknown>;
  /** ENABLED when a mapping has autoStage, else DISABLED (the rule then keeps a pattern on the mapped buckets). */
  s3EventsRuleState: 'ENABLED' | 'DISABLED';
}

/** Everything serverless.yml derives from `config`. */
export function deploymentValues(config: Config, file: string): DeploymentValues {
  const fileSystems = config.fileSystems.map((fs) => ({ ...fs, region: fs.region ?? config.region }));
  const locations = config.mappings.map((m) => parseS3Uri(m.s3Uri));
  const reportLocations = config.defaults.reportPath
    ? [parseS3Uri(config.defaults.reportPath)]
    : locations.map((l) => ({ ...l, prefix: l.prefix ? `${l.prefix}/${REPORT_FOLDER}` : REPORT_FOLDER }));
  const amiParameter = config.defaults.amiParameter;
  return {
    file,
    region: config.region,
    iam: {
      fileSystemArns: fileSystems.map((fs) => arn('fsx', fs.region, `file-system/${fs.id}`)),
      associationArns: fileSystems.map((fs) => arn('fsx', fs.region, `association/${fs.id}/*`)),
      taskArns: unique(fileSystems.map((fs) => arn('fsx', fs.region, 'task/*'))),
      fsxS3ServiceLinkedRoleArns: fileSystems.map((fs) =>
        arn(
          'iam',
          '',
          `role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_${fs.id}`,
        ),
      ),
      bucketArns: unique(locations.map((l) => s3Arn(l.bucket))),
      objectArns: unique(
        locations.map((l) => s3Arn(l.prefix ? `${l.bucket}/${l.prefix}/*` : `${l.bucket}/*`)),
      ),
      transferListingArns: unique(locations.map((l) => s3Arn(`${l.bucket}/.fsx-transfer/*`))),
      transferProgressArns: unique(locations.map((l) => s3Arn(`${l.bucket}/.fsx-transfer/progress/*`))),
      reportObjectArns: unique(
        reportLocations.map((l) => s3Arn(l.prefix ? `${l.bucket}/${l.prefix}/*` : `${l.bucket}/*`)),
      ),
      reportBucketArns: unique(reportLocations.map((l) => s3Arn(l.bucket))),
      amiParameterArns: [
        arn(
          'ssm',
          config.region,
          `parameter${amiParameter}`,
          amiParameter.startsWith('/aws/service/') ? '' : ACCOUNT,
        ),
      ],
      subnetArns: unique(
        fileSystems.flatMap((fs) => fs.subnetIds.map((id) => arn('ec2', fs.region, `subnet/${id}`))),
      ),
      securityGroupArns: unique(
        fileSystems.flatMap((fs) =>
          fs.securityGroupIds.map((id) => arn('ec2', fs.region, `security-group/${id}`)),
        ),
      ),
      lustreClientInstanceArns: unique(
        fileSystems
          .filter((fs) => fs.lustreClientInstanceId)
          .map((fs) => arn('ec2', fs.region, `instance/${fs.lustreClientInstanceId}`)),
      ),
      lustreClientCommandArns: unique([
        arn('ssm', config.region, 'document/AWS-RunShellScript', ''),
        ...fileSystems
          .filter((fs) => fs.lustreClientInstanceId)
          .map((fs) => arn('ec2', fs.region, `instance/${fs.lustreClientInstanceId}`)),
      ]),
      dataRepositoryRoleArns: unique(
        fileSystems.map((fs) => fs.dataRepositoryRoleArn).filter((v): v is string => Boolean(v)),
      ),
    },
    scheduleEvents: config.mappings.flatMap((mapping) =>
      mapping.schedules.map((schedule) => ({
        schedule: {
          rate: schedule.expression,
          enabled: true,
          description: `fsx-transfer schedule: ${mapping.name} ${schedule.direction}`,
          input: {
            mapping: mapping.name,
            direction: schedule.direction,
            ...(schedule.subPath ? { subPath: schedule.subPath } : {}),
            trigger: 'schedule',
          },
        },
      })),
    ),
    s3EventPattern: s3EventPattern(config) ?? {
      source: ['aws.s3'],
      'detail-type': ['Object Created', 'Object Deleted'],
      detail: { bucket: { name: unique(locations.map((l) => l.bucket)) } },
    },
    s3EventsRuleState: config.mappings.some((m) => m.autoStage) ? 'ENABLED' : 'DISABLED',
  };
}
