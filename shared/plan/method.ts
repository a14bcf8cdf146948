/**
 * Choosing the transfer method: a pure function of the gathered facts, so every choice can be
 * tested with plain data. `ec2` is taken as asked (no DRA checks); `dra` needs every DRA
 * prerequisite to hold; `auto` picks `dra` when they all hold and `ec2` otherwise, saying why.
 */
import {
  checkDraPrerequisites,
  type DraFacts,
  describeReasons,
  failedReasons,
} from '../dra/prerequisites.js';
import { DraPrerequisiteError } from '../errors.js';
import type { Reason, ResolvedMethod } from './schema.js';

/** What the choice rests on: the method asked for and, unless that is `ec2`, the DRA facts. */
export type MethodFacts =
  | { mapping: string; requested: 'ec2' }
  | { mapping: string; requested: 'dra' | 'auto'; dra: DraFacts };

export interface MethodChoice {
  method: ResolvedMethod;
  /** The resolution first (METHOD_EC2, METHOD_DRA or METHOD_AUTO), then every failed prerequisite. */
  reasons: Reason[];
}

/**
 * Resolves the method of a transfer.
 * @throws DraPrerequisiteError when `dra` was requested and prerequisites fail (all of them listed).
 */
export function chooseMethod(facts: MethodFacts): MethodChoice {
  if (facts.requested === 'ec2') {
    return {
      method: 'ec2',
      reasons: [
        {
          code: 'METHOD_EC2',
          ok: true,
          message: 'method ec2 was requested, so no DRA prerequisite decided the method',
        },
      ],
    };
  }
  const { requested, mapping } = facts;
  const failed = failedReasons(checkDraPrerequisites(facts.dra));
  if (requested === 'dra' && failed.length > 0) {
    throw new DraPrerequisiteError(
      `method dra was requested for mapping ${mapping}, but ${failed.length} DRA prerequisite(s) failed: ${describeReasons(failed)}`,
      { details: { mapping, reasons: failed } },
    );
  }
  const method = failed.length === 0 ? 'dra' : 'ec2';
  const summary: Reason = {
    code: requested === 'dra' ? 'METHOD_DRA' : 'METHOD_AUTO',
    ok: true,
    message:
      requested === 'dra'
        ? 'method dra was requested and every DRA prerequisite holds'
        : failed.length === 0
          ? 'method auto chose dra: every DRA prerequisite holds'
          : `method auto chose ec2: ${failed.length} DRA prerequisite(s) failed (${failed.map((r) => r.code).join(', ')})`,
    seen: { requested, resolved: method },
  };
  return { method, reasons: [summary, ...failed] };
}
