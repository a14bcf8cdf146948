/**
 * DynamoDB for the local cloud: dynalite (a DynamoDB-compatible server on npm, Apache-2.0), started
 * in-process with its data in memory and served behind the local cloud's one port: the router
 * hands every `X-Amz-Target: DynamoDB_20120810.<Operation>` request (after fault rules) to
 * dynalite's own request listener, so the SDK, `@aws-sdk/lib-dynamodb` and `aws dynamodb` work
 * unchanged. Tables declared as `AWS::DynamoDB::Table` in serverless.yml are created at start.
 *
 * dynalite implements the table and item operations (Get/Put/Update/DeleteItem with condition
 * expressions, Query, Scan, Batch*, Create/Describe/Update/Delete/ListTables, tags,
 * DescribeTimeToLive) with DynamoDB's validation and errors; it has no transactions
 * (TransactWriteItems/TransactGetItems), PartiQL, UpdateTimeToLive, backups or streams, ignores
 * unknown request parameters (e.g. ReturnValuesOnConditionCheckFailure) and never expires items
 * by TTL.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { evaluateCfnDeep, physicalName, type ServerlessProject } from './serverless-config.js';

type Dynalite = (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  path?: string;
}) => Server;

const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

/** `AWS::DynamoDB::Table` properties CreateTable takes and dynalite implements. */
const CREATE_TABLE_PROPERTIES = [
  'AttributeDefinitions',
  'KeySchema',
  'BillingMode',
  'ProvisionedThroughput',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
] as const;
/** Properties the local cloud drops (dynalite has no such feature); logged once per table. */
const DROPPED_PROPERTIES = [
  'SSESpecification',
  'TimeToLiveSpecification',
  'PointInTimeRecoverySpecification',
  'StreamSpecification',
  'ContributorInsightsSpecification',
  'KinesisStreamSpecification',
  'DeletionProtectionEnabled',
  'TableClass',
  'ResourcePolicy',
  'OnDemandThroughput',
  'WarmThroughput',
];

export class DynamoDbServer {
  /** The router hands it every request with this X-Amz-Target prefix (after fault rules). */
  readonly targetPrefix = 'DynamoDB_20120810';
  readonly jsonVersion = '1.0' as const;
  private readonly server: Server;
  private readonly listener: RequestListener;

  constructor() {
    // Tables are ACTIVE at once: CreateTable in tests and at start needs no waiter.
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    this.listener = this.server.listeners('request')[0] as RequestListener;
  }

  /** Answers one request whose body the router has already read. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const replay = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
      headers: req.headers,
      method: req.method,
      url: req.url,
    });
    this.listener(replay as unknown as IncomingMessage, res);
  }
}

/** The CreateTable input of an `AWS::DynamoDB::Table` resource, and what had to be dropped. */
export function createTableInput(
  project: ServerlessProject,
  logicalId: string,
): { input?: CreateTableCommandInput; dropped: string[] } {
  const props = project.resources[logicalId]?.Properties ?? {};
  const TableName = physicalName(project, logicalId, 'TableName');
  if (!TableName) return { dropped: [] };
  const input: Record<string, unknown> = { TableName };
  for (const key of CREATE_TABLE_PROPERTIES) {
    if (props[key] !== undefined) input[key] = evaluateCfnDeep(project, props[key]);
  }
  return {
    input: input as unknown as CreateTableCommandInput,
    dropped: DROPPED_PROPERTIES.filter((key) => props[key] !== undefined),
  };
}

/**
 * Creates the tables of `AWS::DynamoDB::Table` resources through the DynamoDB API; a table that
 * cannot be created is logged and skipped.
 * @returns the names of the tables created.
 */
export async function createTablesFromProject(
  client: DynamoDBClient,
  project: ServerlessProject,
  log: (message: string) => void,
): Promise<string[]> {
  const created: string[] = [];
  for (const [logicalId, resource] of Object.entries(project.resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const { input, dropped } = createTableInput(project, logicalId);
    if (!input) {
      log(`[dynamodb] table ${logicalId} skipped: its TableName cannot be evaluated locally`);
      continue;
    }
    if (dropped.length > 0) {
      log(`[dynamodb] table ${input.TableName}: ${dropped.join(', ')} not modelled locally (dropped)`);
    }
    try {
      await client.send(new CreateTableCommand(input));
      created.push(input.TableName!);
    } catch (error) {
      log(
        `[dynamodb] table ${logicalId} (${input.TableName}) skipped: ${(error as Error).name}: ${(error as Error).message}`,
      );
    }
  }
  return created;
}
