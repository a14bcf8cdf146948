import { describe, expect, it } from 'vitest';
import { reportKeys } from '../../../shared/dra/report.js';

describe('reportKeys', () => {
  it('looks for both failures.csv (export, release) and report.csv (import) under the task folder', () => {
    const { bucket, keys } = reportKeys('s3://demo/ExtData/fsx-transfer-reports', 'task-0123456789abcdef0');

    expect(bucket).toBe('demo');
    expect(keys).toEqual([
      'ExtData/fsx-transfer-reports/task-0123456789abcdef0/failures.csv',
      'ExtData/fsx-transfer-reports/task-0123456789abcdef0/report.csv',
    ]);
  });
});
