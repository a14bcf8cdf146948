/**
 * Local osls plugin, run after serverless-iam-roles-per-function (listed after it in
 * serverless.yml), on the compiled template:
 * - flattens IAM statement `Resource` lists, so serverless.yml can combine config-derived lists
 *   (`Resource: [${self:custom.config.iam.fileSystemArns}, ${self:custom.config.iam.associationArns}]`);
 *   IAM accepts only a flat list;
 * - removes the framework's shared Lambda role (IamRoleLambdaExecution) when nothing uses it:
 *   every function has its own least-privilege role, so the shared one would be an unused identity;
 * - drops logs:CreateLogGroup from each function role's CloudWatch Logs statement when the stack
 *   creates that function's log group (osls does, `<Function>LogGroup`): the Lambda service then
 *   only creates streams and puts events (local/iam/roles.ts models the roles the same way).
 */
class TidyIam {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.tidy() };
  }

  tidy() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources || {};
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Role' && resource.Type !== 'AWS::IAM::Policy') continue;
      const documents = [
        ...(resource.Properties.Policies || []).map((policy) => policy.PolicyDocument),
        resource.Properties.PolicyDocument,
      ].filter(Boolean);
      for (const document of documents) {
        for (const statement of [document.Statement].flat()) {
          if (Array.isArray(statement.Resource)) statement.Resource = statement.Resource.flat(Infinity);
        }
      }
    }
    const logGroups = new Set(
      Object.values(resources)
        .filter((resource) => resource.Type === 'AWS::Logs::LogGroup')
        .map((resource) => resource.Properties.LogGroupName),
    );
    for (const [roleId, role] of Object.entries(resources)) {
      if (role.Type !== 'AWS::IAM::Role' || !roleId.endsWith('IamRoleLambdaExecution')) continue;
      for (const policy of role.Properties.Policies || []) {
        for (const statement of [policy.PolicyDocument.Statement].flat()) {
          const actions = [statement.Action].flat();
          const group = /:log-group:([^:"]+):\*:\*"/.exec(JSON.stringify(statement.Resource))?.[1];
          if (actions.includes('logs:CreateLogGroup') && group && logGroups.has(group)) {
            statement.Action = actions.filter((action) => action !== 'logs:CreateLogGroup');
          }
        }
      }
    }
    const id = 'IamRoleLambdaExecution';
    if (!resources[id]) return;
    const others = { ...template, Resources: { ...resources } };
    delete others.Resources[id];
    if (!JSON.stringify(others).includes(`"${id}"`)) delete resources[id];
  }
}

module.exports = TidyIam;
