/**
 * The transfers API's handler wrapper (API Gateway HTTP API, payload format 2.0, AWS_IAM auth):
 * middy with the Powertools logger, JSON responses, and every thrown error turned into a
 * problem document (RFC 9457: `type`, `title`, `status`, `detail`, and for validation `errors`
 * naming each field and rule). Handlers throw; nothing catches an error to answer 200.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import * as z from 'zod';
import {
  InvalidRequestError,
  MappingNotFoundError,
  TooManyRequestsError,
  TransferConflictError,
  type TransferError,
  TransferNotFoundError,
} from '../errors.js';
import { issueFields } from '../input.js';
import { logger } from '../log.js';

export type ApiEvent = APIGatewayProxyEventV2WithIAMAuthorizer;

export interface ApiResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; rule: string }[];
}

const PROBLEMS: {
  error: new (...args: never[]) => TransferError;
  status: number;
  slug: string;
  title: string;
}[] = [
  { error: InvalidRequestError, status: 400, slug: 'invalid-request', title: 'The request is not valid' },
  { error: MappingNotFoundError, status: 400, slug: 'invalid-request', title: 'The request is not valid' },
  { error: TransferNotFoundError, status: 404, slug: 'not-found', title: 'No such transfer' },
  {
    error: TransferConflictError,
    status: 409,
    slug: 'conflict',
    title: 'The request conflicts with the transfer',
  },
  {
    error: TooManyRequestsError,
    status: 429,
    slug: 'too-many-requests',
    title: 'Too many requests; retry later',
  },
];

/** Problem type URIs: stable names documented in README "Transfers API". */
export const problemType = (slug: string) => `urn:fsx-transfer:problem:${slug}`;

/** The fields and rules of a validation error (zod issues, or the field the check named). */
function fieldErrors(error: TransferError): { field: string; rule: string }[] | undefined {
  if (error.cause instanceof z.ZodError) return issueFields(error.cause, '(body)');
  const { field, rule } = error.details;
  return typeof field === 'string'
    ? [{ field, rule: typeof rule === 'string' ? rule : error.message }]
    : undefined;
}

/** The problem document for any thrown value; unexpected errors say only where to look. */
export function problemFor(error: unknown, requestId: string): Problem {
  const known = PROBLEMS.find((p) => error instanceof p.error);
  if (!known) {
    return {
      type: problemType('internal-error'),
      title: 'Internal error',
      status: 500,
      detail: `The request failed unexpectedly; the function's log has the details (request id ${requestId}).`,
    };
  }
  const transferError = error as TransferError;
  const errors = known.status === 400 ? fieldErrors(transferError) : undefined;
  return {
    type: problemType(known.slug),
    title: known.title,
    status: known.status,
    detail: transferError.message,
    ...(errors ? { errors } : {}),
  };
}

export function jsonResponse(result: ApiResult): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: result.statusCode,
    headers: { 'content-type': 'application/json', ...result.headers },
    body: JSON.stringify(result.body),
  };
}

/** Wraps an API route: `fn` returns status, headers and a JSON body, or throws. */
export function httpHandler(fn: (event: ApiEvent, context: Context) => Promise<ApiResult>) {
  return middy(async (event: ApiEvent, context: Context) => jsonResponse(await fn(event, context)))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      onError: async (request) => {
        const requestId = request.context?.awsRequestId ?? 'unknown';
        const problem = problemFor(request.error, requestId);
        if (problem.status >= 500) logger.error('API request failed', { error: request.error as Error });
        else logger.info('API request refused', { status: problem.status, detail: problem.detail });
        request.response = {
          statusCode: problem.status,
          headers: {
            'content-type': 'application/problem+json',
            ...(problem.status === 429 ? { 'retry-after': '5' } : {}),
          },
          body: JSON.stringify(problem),
        };
      },
    });
}

/** The JSON body of a request. @throws InvalidRequestError when it is missing or not a JSON object. */
export function jsonBody(event: ApiEvent): unknown {
  const text = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  const rule = 'must be a JSON object (a transfer request)';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`Invalid request: body: ${rule}`, {
      cause: error,
      details: { field: 'body', rule },
    });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidRequestError(`Invalid request: body: ${rule}`, { details: { field: 'body', rule } });
  }
  return value;
}

/** The caller's IAM identity as API Gateway verified it. */
export function callerOf(event: ApiEvent): string | undefined {
  return event.requestContext.authorizer?.iam?.userArn;
}
