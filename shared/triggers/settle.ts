/**
 * `CheckUploadsQuiet`: an event-started run waits until its upload is over, so one upload of
 * thousands of objects starts one run. Between two checks the state machine waits
 * `defaults.autoStage.quietSeconds` (a Wait state, so it costs no Lambda time); the run goes on
 * once no event joined it during a whole wait, or after `maxSettleMinutes` of continuous events.
 * Counting events (not comparing clocks) keeps the rule exact under the local cloud's scaled time.
 */
import * as z from 'zod';
import type { Config } from '../config/schema.js';
import { parseInput } from '../input.js';
import { readGate } from '../transfers/gate.js';
import type { TableDeps } from '../transfers/table.js';

export const CheckUploadsQuietInput = z.looseObject({
  plan: z.looseObject({
    transferId: z.string().min(1),
    mapping: z.string().min(1),
    direction: z.enum(['stage-in', 'export']),
  }),
  settle: z.object({ events: z.number().int(), checks: z.number().int() }).optional(),
});

export interface SettleState {
  /** Events the run covered at this check. */
  events: number;
  checks: number;
  quiet: boolean;
  /** Seconds the state machine waits before the next check. */
  waitSeconds: number;
}

/** One check: quiet when no event joined since the previous check (the first check never is). */
export async function checkUploadsQuiet(
  deps: TableDeps & { config: Config },
  event: unknown,
): Promise<SettleState> {
  const { plan, settle } = parseInput(CheckUploadsQuietInput, event, 'CheckUploadsQuiet input');
  const { quietSeconds, maxSettleMinutes } = deps.config.defaults.autoStage;
  const gate = await readGate(deps, { mapping: plan.mapping, direction: plan.direction });
  const checks = (settle?.checks ?? 0) + 1;
  // No longer the waiting event run (its slot was freed): nothing more can join it.
  const joined = gate.pendingRun === plan.transferId;
  const events = joined ? (gate.pendingEvents ?? 0) : (settle?.events ?? 0);
  const maxChecks = Math.ceil((maxSettleMinutes * 60) / quietSeconds);
  const quiet = !joined || (settle !== undefined && events === settle.events) || checks > maxChecks;
  return { events, checks, quiet, waitSeconds: quietSeconds };
}
