/**
 * Choice type tests set to `false` match when the test fails, as on Step Functions
 * (`{"IsPresent": false}` matches a missing field), nested in And/Or/Not too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negatedTypeTests } from '../../../local/sfn/definition.js';
import { call, finished, type SfnHarness, sfnHarness } from './sfn-helpers.js';

let h: SfnHarness;
let stateMachineArn: string;

beforeAll(async () => {
  h = sfnHarness({ timeScale: 0.001 });
  const choose = (result: string) => ({ Type: 'Pass', Result: result, End: true });
  ({ stateMachineArn } = await call<{ stateMachineArn: string }>(h.sfn, 'CreateStateMachine', {
    name: 'type-tests',
    roleArn: 'arn:aws:iam::000000000000:role/test',
    definition: JSON.stringify({
      StartAt: 'Choose',
      States: {
        Choose: {
          Type: 'Choice',
          Choices: [
            { Variable: '$.client', IsPresent: false, Next: 'NoClient' },
            {
              And: [
                { Variable: '$.client', IsNull: false },
                { Variable: '$.client', IsString: false },
              ],
              Next: 'NotAString',
            },
          ],
          Default: 'Client',
        },
        NoClient: choose('no client'),
        NotAString: choose('not a string'),
        Client: choose('client'),
      },
    }),
  }));
});

afterAll(async () => {
  await h?.sfn.close();
});

async function run(input: unknown): Promise<unknown> {
  const started = await call<{ executionArn: string }>(h.sfn, 'StartExecution', {
    stateMachineArn,
    input: JSON.stringify(input),
  });
  const described = await finished(h, started.executionArn);
  return JSON.parse(String(described.output));
}

describe('Choice type tests set to false', () => {
  it('IsPresent false matches a missing field, and not a present one', async () => {
    expect(await run({})).toBe('no client');
    expect(await run({ client: 'i-0123' })).toBe('client');
  });

  it('IsNull and IsString false match inside And', async () => {
    expect(await run({ client: 42 })).toBe('not a string');
    expect(await run({ client: null })).toBe('client');
  });

  it('becomes Not of the true test, keeping Next, in nested rules', () => {
    expect(negatedTypeTests({ Variable: '$.a', IsPresent: false, Next: 'X' })).toEqual({
      Not: { Variable: '$.a', IsPresent: true },
      Next: 'X',
    });
    expect(negatedTypeTests({ Or: [{ Not: { Variable: '$.b', IsNumeric: false } }], Next: 'Y' })).toEqual({
      Or: [{ Not: { Not: { Variable: '$.b', IsNumeric: true } } }],
      Next: 'Y',
    });
    expect(negatedTypeTests({ Variable: '$.c', IsBoolean: true, Next: 'Z' })).toEqual({
      Variable: '$.c',
      IsBoolean: true,
      Next: 'Z',
    });
  });
});
