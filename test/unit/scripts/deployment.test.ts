// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders and Serverless variables are literal ${...} strings
import { describe, expect, it } from 'vitest';
import { bundledConfigPath, deploymentValues } from '../../../scripts/sls/deployment.js';
import { loadConfig } from '../../../shared/config/load.js';

const config = loadConfig('fsx-transfer.config.example.yaml');
const values = deploymentValues(config, 'fsx-transfer.config.example.yaml');
const flat = (value: unknown) => JSON.stringify(value);

describe('deploymentValues', () => {
  it('scopes file system and association ARNs to the configured file systems', () => {
    expect(flat(values.iam.fileSystemArns)).toContain(':fsx:us-east-1:');
    expect(flat(values.iam.fileSystemArns)).toContain(':file-system/fs-0123456789abcdef0');
    expect(flat(values.iam.associationArns)).toContain(':association/fs-0123456789abcdef0/*');
  });

  it('lists each mapped bucket once and the objects below each mapped prefix', () => {
    expect(values.iam.bucketArns).toHaveLength(1);
    expect(flat(values.iam.bucketArns)).toContain(':s3:::dzhang-imi-gchp-test"');
    expect(values.iam.objectArns).toHaveLength(config.mappings.length);
    expect(flat(values.iam.objectArns)).toContain(':s3:::dzhang-imi-gchp-test/ExtData/*');
  });

  it('scopes report reads to the report folder under each mapped prefix, never the data itself', () => {
    expect(values.iam.reportObjectArns).toHaveLength(config.mappings.length);
    expect(flat(values.iam.reportObjectArns)).toContain(
      ':s3:::dzhang-imi-gchp-test/ExtData/fsx-transfer-reports/*',
    );
    expect(flat(values.iam.reportObjectArns)).not.toContain(':s3:::dzhang-imi-gchp-test/ExtData/*"');
  });

  it('scopes report reads to defaults.reportPath when the config sets one', () => {
    const withReports = {
      ...config,
      defaults: { ...config.defaults, reportPath: 's3://audit-bucket/fsx/reports' },
    };

    const iam = deploymentValues(withReports, 'x.yaml').iam;

    expect(flat(iam.reportObjectArns)).toBe(
      flat([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::audit-bucket/fsx/reports/*']] }]),
    );
    expect(flat(iam.reportBucketArns)).toContain(':s3:::audit-bucket"');
  });

  it('grants the configured AMI parameter only; public /aws/service/ parameters carry no account', () => {
    expect(flat(values.iam.amiParameterArns)).toContain(
      `:ssm:us-east-1:","",":parameter${config.defaults.amiParameter}"`,
    );

    const own = deploymentValues(
      { ...config, defaults: { ...config.defaults, amiParameter: '/golden/ami' } },
      'x.yaml',
    ).iam.amiParameterArns;

    expect(flat(own)).toContain('{"Ref":"AWS::AccountId"},":parameter/golden/ami"');
  });

  it('never writes ${...} strings, which the Serverless variable resolver would try to resolve', () => {
    expect(flat(values)).not.toContain('${');
  });

  it('turns config schedules into state machine schedule events with a transfer request as input', () => {
    expect(values.scheduleEvents).toContainEqual({
      schedule: {
        rate: 'cron(30 3 * * ? *)',
        enabled: true,
        description: 'fsx-transfer schedule: output export',
        input: { mapping: 'output', direction: 'export', trigger: 'schedule' },
      },
    });
  });
});

describe('bundledConfigPath', () => {
  it('keeps a config inside the project as a relative path', () => {
    expect(bundledConfigPath('/repo', 'configs/prod.yaml')).toBe('configs/prod.yaml');
    expect(bundledConfigPath('/repo', '/repo/fsx-transfer.config.yaml')).toBe('fsx-transfer.config.yaml');
  });

  it('refuses a config outside the project, which could not be bundled', () => {
    expect(() => bundledConfigPath('/repo', '/etc/prod.yaml')).toThrow(
      'must be inside the project directory',
    );
  });
});
