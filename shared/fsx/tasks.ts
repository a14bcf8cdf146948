/**
 * FSx data repository tasks: creating and describing. There is no completion event: the state
 * machine polls `describeTask` with back-off (see shared/dra/tasks.ts). Not-found becomes
 * `undefined`; every other SDK error is thrown unchanged for the caller to map.
 */
import {
  CreateDataRepositoryTaskCommand,
  type CreateDataRepositoryTaskRequest,
  type DataRepositoryTask,
  DescribeDataRepositoryTasksCommand,
  type FSxClient,
} from '@aws-sdk/client-fsx';
import { unlessMissing } from '../aws/missing.js';

export type { DataRepositoryTask };

/** Starts a task (idempotent for the same ClientRequestToken); undefined if FSx returned none. */
export async function createTask(
  fsx: FSxClient,
  request: CreateDataRepositoryTaskRequest,
): Promise<DataRepositoryTask | undefined> {
  return (await fsx.send(new CreateDataRepositoryTaskCommand(request))).DataRepositoryTask;
}

/** One task, or undefined when FSx no longer knows it. */
export async function describeTask(fsx: FSxClient, taskId: string): Promise<DataRepositoryTask | undefined> {
  const out = await unlessMissing(
    fsx.send(new DescribeDataRepositoryTasksCommand({ TaskIds: [taskId] })),
    'DataRepositoryTaskNotFound',
  );
  return out?.DataRepositoryTasks?.[0];
}
