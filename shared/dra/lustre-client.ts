/**
 * Commands on a Lustre client through SSM Run Command: listing the scope (the listing format of
 * shared/verify/listing.ts, to verify a DRA transfer; Lambda cannot mount Lustre) and preloading it (`lfs hsm_restore`:
 * imported file contents are lazy, fetched from S3 on first read otherwise). The client is the
 * configured one (`fileSystems[].lustreClientInstanceId`, an instance that already mounts the file
 * system at `mountPoint`) or, for a preload without one, a transfer instance the state machine
 * launched for it (the command then mounts the file system first; the instance is terminated after).
 *
 * Uses the AWS-owned `AWS-RunShellScript` document. Every value in the scripts passed the path
 * rules of shared/paths.ts (no quotes or shell metacharacters), and is single-quoted as well.
 */
import { posix } from 'node:path';
import { SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { rethrowTransient } from '../aws/transient.js';
import {
  awsErrorName,
  CommandFailedError,
  CommandTimedOutError,
  NotReadyYetError,
  TransferTimeoutError,
} from '../errors.js';
import { SAFE_PATH_PATTERN } from '../paths.js';
import { runMinutesOf } from '../plan/deadline.js';
import type { TransferPlan } from '../plan/schema.js';
import { getInvocation, invocationOutcome, tail } from '../ssm/commands.js';
import { checksumsUriFor, DOCUMENT_PATTERNS, MAX_EXECUTION_TIMEOUT_SECONDS } from '../ssm/document.js';
import { CHECKSUM_SCRIPT } from '../verify/checksum-listing.js';
import { listingScript } from '../verify/listing.js';
import type { LustreCommandPurpose, LustreCommandState } from './state.js';

export const RUN_SHELL_SCRIPT = 'AWS-RunShellScript';
export const PRELOAD_HEADER = 'FSXT-PRELOAD v1';
/** GetCommandInvocation returns at most this much standard output. */
export const SSM_OUTPUT_LIMIT = 24_000;

/** The scope's directory on the Lustre client. */
export function clientDirectory(plan: Pick<TransferPlan, 'fileSystem' | 'scope'>): string {
  const dir = posix.join(plan.fileSystem.mountPoint, plan.scope.fsxPath);
  if (!SAFE_PATH_PATTERN.test(dir)) throw new Error(`unsafe directory ${dir}`);
  return dir;
}

/** Restores every file below `$dir` (`lfs hsm_restore` queues them), then waits until none is in progress. */
const RESTORE_COMMANDS = [
  'find "$dir" -type f -print0 | xargs -0 -r -n 200 lfs hsm_restore',
  '# hsm_restore only queues the restores: wait until none is in progress',
  'while find "$dir" -type f -print0 | xargs -0 -r -n 200 lfs hsm_action 2>/dev/null | grep -q RESTORE; do sleep 5; done',
];

/**
 * Restores the contents of every file below `dir` from S3 (`lfs hsm_restore`, asynchronous), then
 * waits until no restore is in progress.
 */
export function preloadScript(dir: string): string[] {
  return [
    'set -eu',
    `dir='${dir}'`,
    'test -d "$dir"',
    ...RESTORE_COMMANDS,
    `echo '${PRELOAD_HEADER}'`,
    'echo "COUNT $(find "$dir" -type f | wc -l | tr -d \' \')"',
  ];
}

/** Where the checksums of a DRA scope go, and with which region the CLI writes them. */
export interface ChecksumsTarget {
  uri: string;
  region: string;
  /**
   * A stage-in: every imported file is released until read, and a failed restore fails the command.
   * After an export only files released earlier (a release) are restored, and a file that cannot be
   * restored is left to the read (Lustre restores it then).
   */
  stageIn: boolean;
}

/**
 * The checksums of every file below `dir` for `checksum` verification, written to `target.uri`
 * with the AWS CLI: the one checksum program (CHECKSUM_SCRIPT, also the transfer document's
 * `checksums` step), run with `python3`. Released contents are restored first (`lfs hsm_restore`,
 * in parallel): Lustre would otherwise fetch each from S3 one by one as the script reads it. A DRA
 * moves the whole scope, so no filters apply. Runs before the listing, which it leaves alone.
 */
export function checksumsScript(dir: string, target: ChecksumsTarget): string[] {
  if (!new RegExp(DOCUMENT_PATTERNS.ChecksumsUri).test(target.uri) || !target.uri)
    throw new Error(`unsafe checksums URI ${target.uri}`);
  if (!new RegExp(DOCUMENT_PATTERNS.Region).test(target.region))
    throw new Error(`unsafe region ${target.region}`);
  return [
    'set -eu',
    `dir='${dir}'`,
    'if [ -d "$dir" ]; then',
    ...(target.stageIn
      ? RESTORE_COMMANDS
      : [`${RESTORE_COMMANDS[0]} 2>/dev/null || true`, ...RESTORE_COMMANDS.slice(1)]
    ).map((line) => `  ${line}`),
    'fi',
    'sums="$(mktemp)"',
    `python3 - "$dir" > "$sums" <<'FSXT_PYTHON'`,
    ...CHECKSUM_SCRIPT,
    'FSXT_PYTHON',
    `AWS_DEFAULT_REGION='${target.region}' aws s3 cp --only-show-errors "$sums" '${target.uri}' > /dev/null`,
    'rm -f "$sums"',
  ];
}

/** The Lustre mount of the plan's file system: `<dnsName>@tcp:/<mountName>` at `mountPoint`. */
export interface LustreMount {
  source: string;
  mountPoint: string;
}

/**
 * The mount of the plan's file system, with every value checked against the transfer document's
 * patterns (so it can be single-quoted in a script).
 * @throws Error when a value does not pass (Validate and DescribeFileSystems never produce one).
 */
export function lustreMount(plan: Pick<TransferPlan, 'fileSystem'>): LustreMount {
  const { dnsName, mountName, mountPoint } = plan.fileSystem;
  if (!new RegExp(DOCUMENT_PATTERNS.FileSystemDnsName).test(dnsName))
    throw new Error(`unsafe file system DNS name ${dnsName}`);
  if (!new RegExp(DOCUMENT_PATTERNS.MountName).test(mountName))
    throw new Error(`unsafe mount name ${mountName}`);
  if (!SAFE_PATH_PATTERN.test(mountPoint) || !mountPoint.startsWith('/') || mountPoint === '/')
    throw new Error(`unsafe mount point ${mountPoint}`);
  return { source: `${dnsName}@tcp:/${mountName}`, mountPoint };
}

/**
 * Mounts the file system unless it is mounted already, as the transfer document does: waits for
 * cloud-init (user data installs the Lustre client), installs the client if that failed, then
 * `mount -t lustre`. Exit code 3: no client; 4: the mount failed. POSIX sh.
 */
export function mountScript({ source, mountPoint }: LustreMount): string[] {
  return [
    'set -eu',
    `mp='${mountPoint}'`,
    `src='${source}'`,
    'if command -v cloud-init > /dev/null 2>&1; then cloud-init status --wait > /dev/null 2>&1 || true; fi',
    'if ! grep -qs " $mp lustre " /proc/mounts; then',
    '  if ! command -v mount.lustre > /dev/null 2>&1; then',
    '    dnf install -y lustre-client > /dev/null || { echo "fsx-transfer: could not install lustre-client for kernel $(uname -r)" >&2; exit 3; }',
    '  fi',
    '  mkdir -p "$mp"',
    '  mount -t lustre -o relatime,flock "$src" "$mp" || { echo "fsx-transfer: mount -t lustre $src $mp failed: check the Lustre client for kernel $(uname -r), that the security group allows TCP 988 and 1018-1023 to the file system, and that it is AVAILABLE" >&2; exit 4; }',
    '  echo "mounted $src at $mp"',
    'fi',
  ];
}

export interface SendInput {
  plan: Pick<TransferPlan, 'transferId' | 'direction' | 'fileSystem' | 'scope' | 'timeouts'> & {
    options?: Pick<TransferPlan['options'], 'verify'>;
  };
  purpose: LustreCommandPurpose;
  /**
   * A transfer instance launched for this command (LaunchPreloadInstance): the command runs there
   * instead of on the configured client, and mounts the file system first.
   */
  instance?: { instanceId: string };
}

/**
 * Sends the listing or preload command to the launched instance, else to the configured Lustre client.
 * In `checksum` mode the listing command also writes the checksums of the scope to S3
 * (`checksumsUri` of the result), as the transfer document's `checksums` step does.
 * @returns `sent: false` with the reason when there is neither.
 * @throws CommandFailedError when SSM refuses (instance not managed or offline), TransientAwsError.
 */
export async function sendLustreCommand(
  deps: { ssm: SSMClient },
  { plan, purpose, instance }: SendInput,
): Promise<LustreCommandState> {
  const launched = Boolean(instance?.instanceId);
  const instanceId = instance?.instanceId || plan.fileSystem.lustreClientInstanceId;
  if (!instanceId) {
    return {
      purpose,
      sent: false,
      reason: `no Lustre client is configured (fileSystems[].lustreClientInstanceId), so the file system side cannot be ${
        purpose === 'list' ? 'listed' : 'preloaded'
      }`,
    };
  }
  const dir = clientDirectory(plan);
  const mount = launched ? lustreMount(plan) : undefined;
  const checksumsUri =
    purpose === 'list' && plan.options?.verify === 'checksum' ? checksumsUriFor(plan, instanceId) : undefined;
  const script =
    purpose === 'preload'
      ? preloadScript(dir)
      : [
          ...(checksumsUri
            ? checksumsScript(dir, {
                uri: checksumsUri,
                region: plan.fileSystem.region,
                stageIn: plan.direction === 'stage-in',
              })
            : []),
          ...listingScript(dir),
        ];
  const where = mount
    ? `the transfer instance ${instanceId} launched for it (mounting ${mount.source} at ${mount.mountPoint})`
    : instanceId;
  // The run's time, within what the SSM agent accepts (an executionTimeout above 48 h would make it
  // fall back to its 1-hour default).
  const timeoutSeconds = Math.max(
    60,
    Math.min(MAX_EXECUTION_TIMEOUT_SECONDS, runMinutesOf(plan.timeouts) * 60),
  );
  try {
    const out = await deps.ssm.send(
      new SendCommandCommand({
        DocumentName: RUN_SHELL_SCRIPT,
        InstanceIds: [instanceId],
        Comment: `fsx-transfer ${purpose} ${plan.transferId}`.slice(0, 100),
        Parameters: {
          commands: mount ? [...mountScript(mount), ...script] : script,
          executionTimeout: [String(timeoutSeconds)],
        },
        TimeoutSeconds: 600,
      }),
    );
    const commandId = out.Command?.CommandId;
    if (!commandId) throw new CommandFailedError(`SendCommand returned no command id for ${instanceId}`);
    return {
      purpose,
      sent: true,
      reason:
        purpose === 'preload'
          ? `lfs hsm_restore of ${dir} on ${where}`
          : `${checksumsUri ? 'checksums and listing' : 'listing'} of ${dir} on ${where}`,
      instanceId,
      ...(checksumsUri ? { checksumsUri } : {}),
      ...(launched ? { launched: true } : {}),
      commandId,
      status: 'Pending',
    };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'InvalidInstanceId' || name === 'InvalidDocument' || name === 'UnsupportedPlatformType') {
      throw new CommandFailedError(
        `Cannot run the ${purpose} command on ${launched ? 'the transfer instance' : 'the Lustre client'} ${instanceId}: ${name} (${(error as Error).message}); the instance must be running, managed by SSM and online`,
        { cause: error, details: { instanceId } },
      );
    }
    rethrowTransient(error, `sending the ${purpose} command to ${instanceId}`);
  }
}

/**
 * Checks the command once; the state machine retries on NotReadyYetError with back-off.
 * @returns the state with the standard output when the command succeeded.
 * @throws NotReadyYetError while it runs, CommandFailedError / CommandTimedOutError when it ended
 *   otherwise, TransferTimeoutError after the plan's deadline.
 */
export async function checkLustreCommand(
  deps: { ssm: SSMClient; now?: () => Date },
  plan: Pick<TransferPlan, 'deadline'>,
  state: LustreCommandState,
): Promise<LustreCommandState> {
  if (!state.sent || !state.commandId || !state.instanceId) return state;
  const invocation = await getInvocation(deps.ssm, state.commandId, state.instanceId);
  const outcome = invocationOutcome(invocation);
  const where = `${state.purpose} command ${state.commandId} on ${state.instanceId}`;
  if (outcome === 'success') {
    return {
      ...state,
      status: invocation.status,
      output: state.purpose === 'list' ? invocation.stdout : tail(invocation.stdout, 500),
    };
  }
  if (outcome === 'running') {
    if ((deps.now?.() ?? new Date()).getTime() > Date.parse(plan.deadline)) {
      throw new TransferTimeoutError(
        `The ${where} is still ${invocation.status} at the run's deadline ${plan.deadline}`,
      );
    }
    throw new NotReadyYetError(`The ${where} is ${invocation.status}`);
  }
  const details = { commandId: state.commandId, instanceId: state.instanceId, status: invocation.status };
  const stderr = tail(invocation.stderr, 1500);
  if (outcome === 'timed-out') {
    throw new CommandTimedOutError(
      `The ${where} timed out (${invocation.statusDetails || invocation.status})`,
      { details },
    );
  }
  throw new CommandFailedError(
    `The ${where} ${outcome === 'cancelled' ? 'was cancelled' : `failed with exit code ${invocation.responseCode}`}${
      stderr ? `: ${stderr}` : ''
    }`,
    { details },
  );
}
