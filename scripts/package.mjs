#!/usr/bin/env node
/**
 * `npm run package [-- <osls options>]`: builds the CloudFormation template and the function
 * bundles offline, with no AWS account and no login:
 *   osls package --stage dev --region <config region, us-east-1 in the shipped configs>
 * It validates the config first (file:line:col messages), runs the osls binary from
 * node_modules (never Serverless Framework v4, which needs a login and a binary download) with
 * placeholder credentials (packaging makes no AWS call), and prints what the template contains.
 * Output: .serverless/cloudformation-template-update-stack.json and one zip per function.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

process.chdir(root);
const { loadConfig, configPath } = await tsImport('../shared/config/load.ts', import.meta.url);
const { bundledConfigPath } = await tsImport('./sls/deployment.ts', import.meta.url);
let config;
try {
  bundledConfigPath(root, configPath());
  config = loadConfig(configPath());
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

const args = process.argv.slice(2);
const has = (flag) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
if (!has('--stage')) args.push('--stage', 'dev');
if (!has('--region')) args.push('--region', config.region);

const osls = require.resolve('osls/bin/serverless.js');
const result = spawnSync(process.execPath, [osls, 'package', ...args], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    // Packaging needs no AWS access; placeholder keys keep osls from looking for a profile.
    AWS_ACCESS_KEY_ID: 'offline-packaging',
    AWS_SECRET_ACCESS_KEY: 'offline-packaging',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  },
});
if (result.status !== 0) process.exit(result.status ?? 1);

const templatePath = join(root, '.serverless', 'cloudformation-template-update-stack.json');
const resources = JSON.parse(readFileSync(templatePath, 'utf8')).Resources;
const names = (type, property) =>
  Object.values(resources)
    .filter((resource) => resource.Type === type)
    .map((resource) => resource.Properties[property])
    .sort();
console.log(`\nTemplate: ${templatePath.slice(root.length + 1)}`);
console.log(`  functions:      ${names('AWS::Lambda::Function', 'FunctionName').join(', ')}`);
console.log(`  state machines: ${names('AWS::StepFunctions::StateMachine', 'StateMachineName').join(', ')}`);
