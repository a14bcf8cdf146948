/**
 * Local osls plugin, run after serverless-iam-roles-per-function (listed after it in
 * serverless.yml), on the compiled template:
 * - flattens IAM statement `Resource` lists, so serverless.yml can combine config-derived lists
 *   (`Resource: [${self:custom.config.iam.fileSystemArns}, ${self:custom.config.iam.associationArns}]`);
 *   IAM accepts only a flat list;
 * - removes the framework's shared Lambda role (IamRoleLambdaExecution) when nothing uses it:
 *   every function has its own least-privilege role, so the shared one would be an unused identity.
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
    const id = 'IamRoleLambdaExecution';
    if (!resources[id]) return;
    const others = { ...template, Resources: { ...resources } };
    delete others.Resources[id];
    if (!JSON.stringify(others).includes(`"${id}"`)) delete resources[id];
  }
}

module.exports = TidyIam;
