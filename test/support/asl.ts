/**
 * State machine definitions for interpreter tests: the real statemachines/*.asl.json with every
 * placeholder replaced by a dummy ARN (functions by their packaged name), and the ASL interpreter
 * loaded after the Node 20 polyfill.
 */
import { join } from 'node:path';
import { loadInterpreter } from '../../local/sfn/polyfill.js';
import { type AslDefinition, functionKeyOf, readStateMachines, substitute } from '../../scripts/sls/asl.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** `${XFunctionArn}` -> the dev stage's function ARN; any other placeholder -> a dummy ARN. */
export function withDummyValues(definition: AslDefinition): AslDefinition {
  return substitute(definition, (name) => {
    const key = functionKeyOf(name);
    if (key) return `arn:aws:lambda:us-east-1:000000000000:function:fsx-transfer-dev-${key}`;
    return `arn:aws:states:us-east-1:000000000000:placeholder:${name}`;
  });
}

/** Every state machine of the project, by file name, as written (placeholders intact). */
export function projectStateMachines(): Record<string, AslDefinition> {
  return readStateMachines(join(REPO_ROOT, 'statemachines'));
}

/** The transfer state machine in aws-local-stepfunctions, ready to `run` with local handlers. */
export async function transferMachine() {
  const { StateMachine } = await loadInterpreter();
  return new StateMachine(withDummyValues(projectStateMachines().transfer!) as never);
}
