/**
 * The command callback: how a transfer command's end reaches the `.waitForTaskToken` state.
 * Two triggers feed it: SSM's `EC2 Command Invocation Status-change Notification` events for the
 * transfer document (fast path, one invocation per status change), and a schedule that walks every
 * stored token (SSM's events are best-effort: a lost event is picked up on the next round, and a
 * still-running command gets a heartbeat, so the state's HeartbeatSeconds only fires when this
 * whole mechanism is down, and the state machine then falls back to polling).
 */
import * as z from 'zod';
import { listTaskTokens, type ReportDeps, type ReportOutcome, reportCommandToTask } from './task-tokens.js';

export const CommandStatusEvent = z.looseObject({
  source: z.literal('aws.ssm'),
  'detail-type': z.literal('EC2 Command Invocation Status-change Notification'),
  detail: z.looseObject({
    'command-id': z.string().min(1),
    'instance-id': z.string().min(1),
    'document-name': z.string().optional(),
    status: z.string().optional(),
  }),
});

export const ScheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

export const CommandCallbackEvent = z.union([CommandStatusEvent, ScheduledEvent]);
export type CommandCallbackEvent = z.infer<typeof CommandCallbackEvent>;

export interface CallbackResult {
  trigger: 'status-change' | 'schedule';
  /** `error`: this command could not be reported this round (see `message`); the next round retries it. */
  reports: { commandId: string; outcome: ReportOutcome | 'error'; message?: string }[];
}

/**
 * Reports commands to their waiting states: the one named by a status event (ignoring other
 * documents), or every stored one on a schedule, with a heartbeat for those still running.
 * @throws TransientAwsError on throttling (the asynchronous invocation is retried).
 */
export async function handleCommandCallback(
  deps: ReportDeps,
  event: CommandCallbackEvent,
  settings: { documentName: string },
): Promise<CallbackResult> {
  if (event.source === 'aws.ssm') {
    const detail = (event as z.infer<typeof CommandStatusEvent>).detail;
    const commandId = detail['command-id'];
    if (detail['document-name'] && detail['document-name'] !== settings.documentName) {
      return { trigger: 'status-change', reports: [{ commandId, outcome: 'no-token' }] };
    }
    const outcome = await reportCommandToTask(deps, { commandId, heartbeat: true });
    return { trigger: 'status-change', reports: [{ commandId, outcome }] };
  }
  const reports: CallbackResult['reports'] = [];
  for (const record of await listTaskTokens(deps)) {
    try {
      const outcome = await reportCommandToTask(deps, {
        commandId: record.commandId,
        heartbeat: true,
        record,
      });
      reports.push({ commandId: record.commandId, outcome });
    } catch (error) {
      // One stuck command must not keep the others from being reported.
      reports.push({ commandId: record.commandId, outcome: 'error', message: (error as Error).message });
    }
  }
  return { trigger: 'schedule', reports };
}
