/**
 * A real DynamoDB (dynalite, in-process, in memory) with the transfers table exactly as
 * serverless.yml declares it, for unit tests of the gate, records and triggers: conditional
 * writes behave as on AWS, which a mocked client could not show.
 */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { loadServerlessProject } from '../../local/serverless-config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface TestTable {
  db: DynamoDBDocumentClient;
  table: string;
  stop(): Promise<void>;
}

/** The TransfersTable resource of serverless.yml as CreateTable input (what dynalite supports). */
export function transfersTableDefinition(table: string) {
  const project = loadServerlessProject({ rootDir: ROOT, stage: 'test' });
  const props = project.resources.TransfersTable?.Properties as Record<string, unknown>;
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: props.AttributeDefinitions as never,
    KeySchema: props.KeySchema as never,
    GlobalSecondaryIndexes: props.GlobalSecondaryIndexes as never,
  };
}

export async function startTestTable(table = 'fsx-transfer-test-transfers'): Promise<TestTable> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await client.send(new CreateTableCommand(transfersTableDefinition(table)));
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    db,
    table,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
