import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, matchesPattern } from '../../../local/event-pattern.js';

const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'EC2 Command Invocation Status-change Notification',
  source: 'aws.ssm',
  account: '000000000000',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:000000000000:instance/i-0abc'],
  detail: {
    'command-id': 'c-1',
    status: 'Failed',
    'instance-id': 'i-0abc',
    exitCode: 2,
    size: 150.5,
    ip: '10.0.3.7',
    tags: ['fsx', 'transfer'],
    items: [{ kind: 'file', bytes: 10 }, { kind: 'dir' }],
    empty: null,
    document: 'fsx-transfer-dev-TransferCommand',
  },
};

const cases: [string, Record<string, unknown>, boolean][] = [
  ['an exact string', { source: ['aws.ssm'] }, true],
  ['a different exact string', { source: ['aws.ec2'] }, false],
  ['any of several values (OR)', { detail: { status: ['Success', 'Failed'] } }, true],
  ['all fields (AND)', { source: ['aws.ssm'], detail: { status: ['Success'] } }, false],
  ['a number, numerically', { detail: { exitCode: [2.0] } }, true],
  ['null', { detail: { empty: [null] } }, true],
  ['an array value when any element matches', { detail: { tags: ['transfer'] } }, true],
  ['fields of objects inside arrays', { detail: { items: { kind: ['dir'] } } }, true],
  ['prefix', { detail: { document: [{ prefix: 'fsx-transfer-' }] } }, true],
  ['prefix that does not match', { detail: { document: [{ prefix: 'other-' }] } }, false],
  [
    'prefix ignoring case',
    { detail: { document: [{ prefix: { 'equals-ignore-case': 'FSX-TRANSFER' } }] } },
    true,
  ],
  ['suffix', { detail: { document: [{ suffix: 'TransferCommand' }] } }, true],
  [
    'suffix ignoring case',
    { detail: { document: [{ suffix: { 'equals-ignore-case': 'transfercommand' } }] } },
    true,
  ],
  ['equals-ignore-case', { detail: { status: [{ 'equals-ignore-case': 'FAILED' }] } }, true],
  ['anything-but a value', { detail: { status: [{ 'anything-but': 'Success' }] } }, true],
  [
    'anything-but a list containing the value',
    { detail: { status: [{ 'anything-but': ['Success', 'Failed'] }] } },
    false,
  ],
  ['anything-but a prefix', { detail: { status: [{ 'anything-but': { prefix: 'Fa' } }] } }, false],
  ['anything-but on a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
  ['numeric range', { detail: { size: [{ numeric: ['>', 100, '<=', 200] }] } }, true],
  ['numeric range outside', { detail: { exitCode: [{ numeric: ['>=', 3] }] } }, false],
  ['numeric equality', { detail: { exitCode: [{ numeric: ['=', 2] }] } }, true],
  ['numeric against a string value', { detail: { status: [{ numeric: ['>', 0] }] } }, false],
  ['exists: true on a present field', { detail: { 'command-id': [{ exists: true }] } }, true],
  ['exists: true on a missing field', { detail: { missing: [{ exists: true }] } }, false],
  ['exists: false on a missing field', { detail: { missing: [{ exists: false }] } }, true],
  ['exists: false on a present field', { detail: { status: [{ exists: false }] } }, false],
  ['wildcard', { detail: { document: [{ wildcard: 'fsx-*-Transfer*' }] } }, true],
  ['wildcard that does not match', { detail: { document: [{ wildcard: '*-prod-*' }] } }, false],
  ['cidr', { detail: { ip: [{ cidr: '10.0.0.0/16' }] } }, true],
  ['cidr outside', { detail: { ip: [{ cidr: '10.1.0.0/16' }] } }, false],
  ['$or of alternatives', { $or: [{ source: ['aws.ec2'] }, { detail: { exitCode: [2] } }] }, true],
  ['$or where none matches', { $or: [{ source: ['aws.ec2'] }, { detail: { exitCode: [0] } }] }, false],
  ['a nested pattern on a scalar field', { detail: { status: { inner: ['x'] } } }, false],
  ['resources', { resources: [{ suffix: '/i-0abc' }] }, true],
];

describe('EventBridge pattern matching', () => {
  for (const [what, pattern, expected] of cases) {
    it(`${expected ? 'matches' : 'does not match'} ${what}`, () => {
      expect(matchesPattern(pattern, event)).toBe(expected);
    });
  }

  it('rejects patterns EventBridge would reject', () => {
    expect(() => matchesPattern({ source: 'aws.ssm' }, event)).toThrow(InvalidEventPatternError);
    expect(() => matchesPattern({ source: [] }, event)).toThrow(/empty arrays/);
    expect(() => matchesPattern({ source: [{ regex: 'x' }] }, event)).toThrow(/unrecognized match type/);
    expect(() => matchesPattern({ detail: { n: [{ numeric: ['>', 'x'] }] } }, event)).toThrow(/numeric/);
  });
});
