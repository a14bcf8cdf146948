/**
 * The checks every trigger makes before it starts anything (API, CLI, S3 events) and the first
 * thing `Validate` does: the one request schema, the mapping exists, the direction is allowed,
 * the sub-path stays inside the mapping. Pure: what needs AWS is checked by `Validate`.
 */
import { findMapping } from '../config/load.js';
import { type Config, type MappingConfig, TransferRequest } from '../config/schema.js';
import { InvalidRequestError } from '../errors.js';
import { parseInput } from '../input.js';
import { resolveScope, type TransferScope } from '../paths.js';

/**
 * The request's mapping and scope.
 * @throws MappingNotFoundError (`details.field` = `mapping`); InvalidRequestError naming the field
 *   and the rule when the mapping does not allow the direction or the sub-path leaves the mapping.
 */
export function resolveRequest(
  config: Config,
  request: TransferRequest,
): { mapping: MappingConfig; scope: TransferScope } {
  const mapping = findMapping(config, request.mapping);
  if (!mapping.directions.includes(request.direction)) {
    const rule = `must be one of the mapping's directions (${mapping.directions.join(', ')})`;
    throw new InvalidRequestError(
      `Invalid transfer request: direction: ${request.direction} is not allowed by mapping ${mapping.name} (allowed: ${mapping.directions.join(', ')})`,
      { details: { field: 'direction', rule, mapping: mapping.name, allowed: mapping.directions } },
    );
  }
  try {
    return { mapping, scope: resolveScope(mapping, request.subPath ?? '') };
  } catch (error) {
    const rule = (error as Error).message;
    throw new InvalidRequestError(`Invalid transfer request: subPath: ${rule}`, {
      cause: error,
      details: { field: 'subPath', rule, mapping: mapping.name },
    });
  }
}

export interface CheckedRequest {
  request: TransferRequest;
  mapping: MappingConfig;
  scope: TransferScope;
}

/**
 * Parses a transfer request with the one schema and resolves it against the config.
 * @throws InvalidRequestError naming each field and rule; MappingNotFoundError.
 */
export function checkTransferRequest(
  config: Config,
  input: unknown,
  what = 'transfer request',
): CheckedRequest {
  const request = parseInput(TransferRequest, input, what);
  return { request, ...resolveRequest(config, request) };
}
