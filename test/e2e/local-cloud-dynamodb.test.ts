/**
 * DynamoDB on the local cloud (dynalite behind the router): the fixture's table is created from
 * serverless.yml, conditional writes fail with ConditionalCheckFailedException through the SDK
 * and the document client, fault rules reach DynamoDB calls, and the AWS CLI works too.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClients } from '../support/local-clients.js';
import { errorOf, type TestCloud } from './local-cloud-helpers.js';
import { ITEMS_TABLE, startFixtureCloud } from './triggers-helpers.js';

let t: TestCloud;
let dynamodb: DynamoDBClient;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  t = await startFixtureCloud();
  dynamodb = localClients(t.cloud.endpoint, { maxAttempts: 1 }).dynamodb();
  documents = DynamoDBDocumentClient.from(dynamodb);
}, 60_000);

afterAll(async () => {
  dynamodb?.destroy();
  await t?.stop();
});

describe('DynamoDB on the local cloud', () => {
  it('creates the AWS::DynamoDB::Table of serverless.yml with its keys, index and billing mode', async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: ITEMS_TABLE }));

    expect(Table).toMatchObject({
      TableName: ITEMS_TABLE,
      TableStatus: 'ACTIVE',
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'gsi1', IndexStatus: 'ACTIVE' })],
    });
    expect(
      t.cloud.logs.some((line) => line.includes('TimeToLiveSpecification') && line.includes('dropped')),
    ).toBe(true);
  });

  it('fails a conditional put of an existing item with ConditionalCheckFailedException', async () => {
    const put = () =>
      documents.send(
        new PutCommand({
          TableName: ITEMS_TABLE,
          Item: { pk: 'lease#data', sk: 'stage-in', owner: 'run-1', gsi1pk: 'leases', gsi1sk: 'data' },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );

    await put();
    const error = await errorOf(put());

    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('applies condition expressions on update, and queries the index', async () => {
    const release = (owner: string) =>
      documents.send(
        new UpdateCommand({
          TableName: ITEMS_TABLE,
          Key: { pk: 'lease#data', sk: 'stage-in' },
          UpdateExpression: 'REMOVE #owner',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );

    const wrongOwner = await errorOf(release('run-2'));
    await release('run-1');
    const { Item } = await documents.send(
      new GetCommand({ TableName: ITEMS_TABLE, Key: { pk: 'lease#data', sk: 'stage-in' } }),
    );
    const { Items } = await documents.send(
      new QueryCommand({
        TableName: ITEMS_TABLE,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'leases' },
      }),
    );

    expect(wrongOwner.name).toBe('ConditionalCheckFailedException');
    expect(Item?.owner).toBeUndefined();
    expect(Items?.map((item) => item.gsi1sk)).toEqual(['data']);
  });

  it('applies fault rules to DynamoDB operations', async () => {
    t.cloud.faults.add({
      service: 'dynamodb',
      operation: 'GetItem',
      code: 'ProvisionedThroughputExceededException',
      count: 1,
      match: { TableName: ITEMS_TABLE },
    });

    const error = await errorOf(
      documents.send(new GetCommand({ TableName: ITEMS_TABLE, Key: { pk: 'x', sk: 'y' } })),
    );
    const next = await documents.send(new GetCommand({ TableName: ITEMS_TABLE, Key: { pk: 'x', sk: 'y' } }));

    expect(error.name).toBe('ProvisionedThroughputExceededException');
    expect(next.Item).toBeUndefined();
  });

  it('refuses transactions, which dynalite does not implement, as an unknown operation', async () => {
    const error = await errorOf(
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: ITEMS_TABLE, Item: { pk: { S: 'a' }, sk: { S: 'b' } } } }],
        }),
      ),
    );

    expect(error.name).toBe('UnknownOperationException');
  });

  it('answers the AWS CLI', async () => {
    const run = await t.aws(['dynamodb', 'describe-table', '--table-name', ITEMS_TABLE, '--output', 'json']);

    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).Table.TableName).toBe(ITEMS_TABLE);
  });
});
