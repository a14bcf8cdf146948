/**
 * The checks every trigger makes before it starts anything (API, CLI, S3 events, the first state
 * of a run): the one request schema, the mapping exists, the direction is allowed, the sub-path
 * stays inside the mapping. No AWS call: what needs AWS is checked by `Validate`.
 */
import { findMapping } from '../config/load.js';
import { type Config, type MappingConfig, TransferRequest } from '../config/schema.js';
import { InvalidRequestError, MappingNotFoundError } from '../errors.js';
import { parseInput } from '../lambda.js';
import { resolveScope } from '../paths.js';

export interface CheckedRequest {
  request: TransferRequest;
  mapping: MappingConfig;
}

/**
 * Parses and checks a transfer request against the config.
 * @throws InvalidRequestError naming the field and the rule (`details.field`); an unknown mapping
 *   is reported as InvalidRequestError on field `mapping` (it is the request that is wrong).
 */
export function checkTransferRequest(
  config: Config,
  input: unknown,
  what = 'transfer request',
): CheckedRequest {
  const request = parseInput(TransferRequest, input, what);
  let mapping: MappingConfig;
  try {
    mapping = findMapping(config, request.mapping);
  } catch (error) {
    if (!(error instanceof MappingNotFoundError)) throw error;
    throw new InvalidRequestError(`Invalid ${what}: mapping: ${error.message}`, {
      cause: error,
      details: { field: 'mapping', rule: 'must name a mapping of the config', ...error.details },
    });
  }
  if (!mapping.directions.includes(request.direction)) {
    const rule = `must be one of the mapping's directions (${mapping.directions.join(', ')})`;
    throw new InvalidRequestError(`Invalid ${what}: direction: ${request.direction} ${rule}`, {
      details: { field: 'direction', rule, mapping: mapping.name, allowed: mapping.directions },
    });
  }
  if (request.subPath) {
    try {
      resolveScope(mapping, request.subPath);
    } catch (error) {
      const rule = (error as Error).message;
      throw new InvalidRequestError(`Invalid ${what}: subPath: ${rule}`, {
        cause: error,
        details: { field: 'subPath', rule, mapping: mapping.name },
      });
    }
  }
  return { request, mapping };
}
