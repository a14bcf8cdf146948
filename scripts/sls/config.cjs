/**
 * Serverless variable resolver: `${file(./scripts/sls/config.cjs):<property>}` in serverless.yml.
 * Loads and validates the config file (FSX_TRANSFER_CONFIG, default fsx-transfer.config.yaml)
 * and returns the values derived from it (scripts/sls/deployment.ts): the bundled config path and
 * the ARNs that scope the IAM statements. An invalid config stops packaging with file:line:col
 * messages. CommonJS because osls require()s resolvers; tsx loads the TypeScript sources.
 */
const path = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

const SERVICE_DIR = path.join(__dirname, '..', '..');

let cached;

module.exports = async () => {
  if (!cached) {
    const { loadConfig, configPath } = tsxRequire('../../shared/config/load.ts', __filename);
    const { bundledConfigPath, deploymentValues } = tsxRequire('./deployment.ts', __filename);
    const file = bundledConfigPath(SERVICE_DIR, configPath());
    cached = deploymentValues(loadConfig(path.join(SERVICE_DIR, file)), file);
  }
  return cached;
};
