/**
 * Serverless variable resolver: `${file(./scripts/sls/state-machines.cjs):<name>.definition}` in
 * serverless.yml. Reads statemachines/<name>.asl.json and replaces every `${Placeholder}`
 * (rules in scripts/sls/asl.ts):
 *   ${<Pascal>FunctionArn}  -> Fn::GetAtt of the function `<kebab>` (it must exist in `functions`)
 *   ${Other}                -> custom.aslSubstitutions.Other (the one substitution map)
 * serverless-step-functions then turns the CloudFormation values into Fn::Sub parameters.
 * Also returns `<name>.invokedFunctionArns` for the state machine's explicit iamRoleStatements.
 */
const path = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

const SERVICE_DIR = path.join(__dirname, '..', '..');

module.exports = async ({ resolveConfigurationProperty }) => {
  const asl = tsxRequire('./asl.ts', __filename);
  const substitutions = (await resolveConfigurationProperty(['custom', 'aslSubstitutions'])) || {};
  const functions = (await resolveConfigurationProperty(['functions'])) || {};
  const functionArn = (key) => ({ 'Fn::GetAtt': [asl.lambdaLogicalId(key), 'Arn'] });
  const lookup = (name) => {
    const key = asl.functionKeyOf(name);
    if (key) return key in functions ? functionArn(key) : undefined;
    return substitutions[name];
  };
  const machines = asl.readStateMachines(path.join(SERVICE_DIR, 'statemachines'));
  return Object.fromEntries(
    Object.entries(machines).map(([name, definition]) => {
      try {
        return [
          name,
          {
            definition: asl.substitute(definition, lookup),
            invokedFunctionArns: asl.invokedFunctions(definition).map(functionArn),
          },
        ];
      } catch (error) {
        throw new Error(`statemachines/${name}.asl.json: ${error.message}`);
      }
    }),
  );
};
