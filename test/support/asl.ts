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

/**
 * The transfer state machine in aws-local-stepfunctions, ready to `run` with local handlers.
 * The interpreter resolves `TimeoutSecondsPath` in a state's Parameters, where AWS resolves it in the
 * state's input: the waits' paths (DRA waits, task starts, transfer commands) are left out here (the local cloud's emulator, and the
 * end-to-end tests, model them as AWS does).
 */
export async function transferMachine() {
  const { StateMachine } = await loadInterpreter();
  const definition = withDummyValues(projectStateMachines().transfer!) as {
    States: Record<string, Record<string, unknown>>;
  };
  const dropPaths = (states: Record<string, Record<string, unknown>>) => {
    for (const state of Object.values(states)) {
      delete state.TimeoutSecondsPath;
      const processor = state.ItemProcessor as
        | { States: Record<string, Record<string, unknown>> }
        | undefined;
      if (processor) dropPaths(processor.States);
    }
  };
  dropPaths(definition.States);
  // The execution's backstop (340 days) does not fit in a Node timer (it would fire at once); the
  // backstop tests read it from the definition.
  delete (definition as { TimeoutSeconds?: number }).TimeoutSeconds;
  return new StateMachine(definition as never);
}
