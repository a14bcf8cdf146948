/**
 * The sample events of events/ssm and events/sfn are what the EC2 method's rules receive: the
 * rules in serverless.yml match them (and nothing else), and the handlers' schemas accept them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../local/event-pattern.js';
import { loadServerlessProject } from '../../../local/serverless-config.js';
import { ExecutionStatusEvent } from '../../../shared/ec2/cleanup.js';
import { CommandCallbackEvent } from '../../../shared/ssm/callback.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const sample = (path: string) => JSON.parse(readFileSync(join(ROOT, 'events', path), 'utf8'));
const project = loadServerlessProject({ rootDir: ROOT, stage: 'dev' });

/** The event pattern of a function's eventBridge event, as serverless.yml declares it for stage dev. */
function patternOf(functionKey: string): Record<string, unknown> {
  const events = project.functions.get(functionKey)?.events ?? [];
  const bridge = events.find((event) => event.eventBridge)?.eventBridge as {
    pattern: Record<string, unknown>;
  };
  return bridge.pattern;
}

describe('command-callback rule', () => {
  it.each([
    'command-invocation-success.json',
    'command-invocation-failed.json',
    'command-invocation-timed-out.json',
  ])('matches and accepts ssm/%s', (file) => {
    const event = sample(`ssm/${file}`);

    expect(matchesPattern(patternOf('command-callback'), event)).toBe(true);
    expect(CommandCallbackEvent.safeParse(event).success).toBe(true);
  });

  it('ignores invocations of other documents', () => {
    const event = sample('ssm/command-invocation-success.json');
    event.detail['document-name'] = 'AWS-RunShellScript';

    expect(matchesPattern(patternOf('command-callback'), event)).toBe(false);
  });

  it('accepts the scheduled event of its polling schedule', () => {
    expect(CommandCallbackEvent.safeParse(sample('schedule/scheduled-event.json')).success).toBe(true);
  });
});

describe('cleanup-execution rule', () => {
  it.each(['execution-failed.json', 'execution-timed-out.json', 'execution-aborted.json'])(
    'matches and accepts sfn/%s',
    (file) => {
      const event = sample(`sfn/${file}`);

      expect(matchesPattern(patternOf('cleanup-execution'), event)).toBe(true);
      expect(ExecutionStatusEvent.safeParse(event).success).toBe(true);
    },
  );

  it('ignores succeeded executions and other state machines', () => {
    const other = sample('sfn/execution-failed.json');
    other.detail.stateMachineArn =
      'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-prod-transfer';

    expect(matchesPattern(patternOf('cleanup-execution'), sample('sfn/execution-succeeded.json'))).toBe(
      false,
    );
    expect(matchesPattern(patternOf('cleanup-execution'), other)).toBe(false);
  });
});
