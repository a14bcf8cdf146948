/**
 * Local osls plugin: removes the framework's shared Lambda role (IamRoleLambdaExecution) when no
 * resource uses it. Every function gets its own least-privilege role from
 * serverless-iam-roles-per-function, so the shared role would only be an unused identity in the
 * account. Runs after that plugin (listed after it in serverless.yml).
 */
class PruneDefaultRole {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.prune() };
  }

  prune() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources || {};
    const id = 'IamRoleLambdaExecution';
    if (!resources[id]) return;
    const others = { ...template, Resources: { ...resources } };
    delete others.Resources[id];
    const text = JSON.stringify(others);
    if (!text.includes(`"${id}"`)) delete resources[id];
  }
}

module.exports = PruneDefaultRole;
