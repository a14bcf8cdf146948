/**
 * How the local cloud's parts act as the project's principals: each Lambda function with its
 * role's credentials (and the Lambda service writing its logs and polling its queues with that
 * role), each state machine invoking functions and calling SDK integrations with its role, each
 * schedule starting its state machine with the schedule role, each transfer instance's agent and
 * commands with its instance profile's role. Built once per cloud by startLocalCloud.
 */
import type { LocalPrincipal } from '../credentials.js';
import type { FunctionIdentity } from '../lambda.js';
import type { ExecutionIam } from '../sfn/execution.js';
import type { InstanceIam } from '../ssm/service.js';
import type { AuthorizationCheck } from './policy.js';
import { authorizationCheck } from './requests.js';
import { LocalIam } from './service.js';

/** Each function runs with its role's credentials; the Lambda service writes its logs with them. */
export function functionIdentity(iam: LocalIam): FunctionIdentity {
  return {
    environment: (fn) => {
      const principal = iam.functionSession(fn.key, fn.name);
      // Functions without a role in serverless.yml (registered by tests) run as the administrator.
      return principal && LocalIam.environment(principal);
    },
    invoked: (fn, logStreamName) => {
      const principal = iam.functionSession(fn.key, fn.name);
      if (!principal) return;
      const { region, accountId } = iam.scope;
      const stream = `arn:aws:logs:${region}:${accountId}:log-group:/aws/lambda/${fn.name}:log-stream:${logStreamName}`;
      // Refused, the function still runs: only its logs are missing (the denial is logged).
      iam.authorize(
        principal,
        [
          authorizationCheck(iam.scope, 'logs:CreateLogStream', stream),
          authorizationCheck(iam.scope, 'logs:PutLogEvents', stream),
        ],
        'Lambda logs',
      );
    },
  };
}

/** What a state machine's role allows: invoking functions, and the credentials of SDK integrations. */
export function executionIam(iam: LocalIam): ExecutionIam & { roleArn(name: string): string | undefined } {
  return {
    refuseInvoke: (stateMachineName, functionArn) => {
      const principal = iam.stateMachineSession(stateMachineName);
      const check = authorizationCheck(iam.scope, 'lambda:InvokeFunction', functionArn);
      return iam.authorize(principal, [check], 'lambda:Invoke')?.message;
    },
    credentials: (stateMachineName) => {
      const principal = iam.stateMachineSession(stateMachineName);
      return (
        principal && {
          accessKeyId: principal.accessKeyId,
          secretAccessKey: principal.secretAccessKey,
          sessionToken: principal.sessionToken,
        }
      );
    },
    roleArn: (name) => {
      const id = iam.projectRoles.stateMachineRoles.get(name);
      return id ? iam.role(id)?.arn : undefined;
    },
  };
}

/** A transfer instance's agent and commands act with its instance profile's role. */
export function instanceIam(iam: LocalIam): InstanceIam {
  const session = (instance: Parameters<InstanceIam['credentials']>[0]): LocalPrincipal | undefined =>
    instance.iamInstanceProfile
      ? iam.instanceSession(instance.iamInstanceProfile.arn, instance.instanceId)
      : undefined;
  return {
    allows: (instance, checks, request) => {
      const principal = session(instance);
      const full = checks.map((c) => authorizationCheck(iam.scope, c.action, c.resource, c.context));
      return !principal || !iam.authorize(principal, full, request);
    },
    credentials: (instance) => {
      const principal = session(instance);
      return principal && LocalIam.environment(principal);
    },
  };
}

/** Whether a function's role lets the Lambda service `sqs:<action>` its event source queue. */
export function eventSourceAuthorizer(iam: LocalIam, keyOf: (functionName: string) => string | undefined) {
  return (functionName: string, action: string, queueArn: string): boolean => {
    const key = keyOf(functionName);
    const principal = key ? iam.functionSession(key, functionName) : undefined;
    const check = authorizationCheck(iam.scope, `sqs:${action}`, queueArn);
    return !principal || !iam.authorize(principal, [check], `Lambda event source mapping (sqs:${action})`);
  };
}

/** AWS's refusal message when a schedule's role may not start its state machine. */
export function refuseScheduledStart(iam: LocalIam, stateMachineArn: string): string | undefined {
  const principal = iam.scheduleSession(stateMachineArn);
  const check: AuthorizationCheck = authorizationCheck(iam.scope, 'states:StartExecution', stateMachineArn);
  return principal ? iam.authorize(principal, [check], 'EventBridge schedule')?.message : undefined;
}

/** AWS's refusal message when a caller may not invoke an HTTP API route. */
export function refuseApiInvoke(
  iam: LocalIam,
  principal: LocalPrincipal,
  routeArn: string,
): string | undefined {
  return iam.authorize(
    principal,
    [authorizationCheck(iam.scope, 'execute-api:Invoke', routeArn)],
    'execute-api:Invoke',
  )?.message;
}
