/** Admin routes of IAM on the local cloud: the mode and roles, statement usage, denials. */
import type { LocalRouter } from '../server.js';
import type { LocalIam } from './service.js';

export function registerIamAdmin(router: LocalRouter, iam: LocalIam): void {
  router.admin({
    method: 'GET',
    path: '/iam',
    description:
      'IAM: the mode (enforce, warn, off) and every role with its statements and how many calls each allowed',
    handler: () => ({ mode: iam.mode, ...iam.report() }),
  });
  router.admin({
    method: 'GET',
    path: '/iam/denials',
    description:
      'requests IAM refused (or, in warn mode, would refuse): principal, action, resource, the missing statement',
    handler: () => ({ mode: iam.mode, denials: iam.denials() }),
  });
}
