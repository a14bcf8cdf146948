/**
 * How long a run may take once it has its turn (its deadline), and the bounds derived from it.
 * A run waits as long as the transfer needs, never a retry count: the deadline is the longer of the
 * configured `timeouts.transferMinutes` and the plan's own estimate with a generous margin, capped by
 * `timeouts.maxRunMinutes` (docs/planning.md "The run's deadline"). Everything that ends a run
 * follows it: the DRA waits and the transfer command (`waitSeconds`), the command's execution
 * timeout and the instance watchdog (the deadline itself), the gate's lease (runMinutes + 60).
 * Pure functions (no SDK: the gate's functions import them); the estimate itself is in
 * estimate-run.ts.
 */
/**
 * The estimate counts this many times over (estimates are rough; transferMinutes, the floor, covers
 * the fixed costs of small runs, so a short estimate never lengthens a run the config keeps short).
 */
export const ESTIMATE_MARGIN = 2;

/** The plan's own estimate of the run (what it rests on, and the seconds the chosen method takes). */
export interface RunEstimate {
  seconds: number;
  files: number;
  bytes: number;
  /** `s3-listing`: the whole scope was listed; `partial-listing`: the first ESTIMATE_LISTING_LIMIT objects only (a lower bound); `given`: sizes given to `fsx-transfer plan`. */
  source: 's3-listing' | 'partial-listing' | 'given';
}

export interface RunTimeouts {
  transferMinutes: number;
  maxRunMinutes: number;
}

export interface RunBudget {
  /** Minutes from the run's turn to its deadline. */
  runMinutes: number;
  /** TimeoutSeconds of every DRA wait and of the transfer command's wait (`waitSeconds`). */
  waitSeconds: number;
  /** Why this long, for the plan and `fsx-transfer plan`. */
  reason: string;
}

/**
 * The bound of one wait state (DRA waits, RunTransferCommand): the run's time plus half of it and
 * an hour, so only a broken poller or a lost callback reaches it; the poller itself fails a wait at
 * the deadline. Never a retry count: a wait costs one transition however long it lasts.
 */
export function waitSeconds(runMinutes: number): number {
  return Math.ceil(runMinutes * 60 * 1.5) + 3600;
}

/**
 * The run's time: the longer of `transferMinutes` and the estimate x ESTIMATE_MARGIN, never more
 * than `maxRunMinutes`.
 */
export function runBudget(
  timeouts: RunTimeouts,
  estimate?: Pick<RunEstimate, 'seconds' | 'source'>,
): RunBudget {
  const configured = timeouts.transferMinutes;
  const estimated =
    estimate && Number.isFinite(estimate.seconds)
      ? Math.ceil((Math.max(0, estimate.seconds) * ESTIMATE_MARGIN) / 60)
      : undefined;
  const wanted = Math.max(configured, estimated ?? 0);
  const runMinutes = Math.min(wanted, timeouts.maxRunMinutes);
  const from =
    estimated === undefined
      ? `timeouts.transferMinutes (${configured} min; no estimate of the scope)`
      : estimated > configured
        ? `the estimate x ${ESTIMATE_MARGIN} (${estimated} min, from ${estimate?.source})`
        : `timeouts.transferMinutes (${configured} min; the estimate x ${ESTIMATE_MARGIN} is ${estimated} min)`;
  const capped =
    wanted > runMinutes ? `, capped at timeouts.maxRunMinutes (${timeouts.maxRunMinutes} min)` : '';
  return { runMinutes, waitSeconds: waitSeconds(runMinutes), reason: `${from}${capped}` };
}

/**
 * How long a run may wait in line for its turn (WaitForTurn's TimeoutSecondsPath
 * `$.plan.timeouts.turnSeconds`): at least as long as the longest run the one ahead of it may take
 * (`maxRunMinutes`) and an hour, so a run never gives up behind a legitimate long run.
 */
export function turnSeconds(maxRunMinutes: number): number {
  return maxRunMinutes * 60 + 3600;
}

/** The run's time of a plan (plans made before runMinutes existed ran for transferMinutes). */
export function runMinutesOf(timeouts: { transferMinutes: number; runMinutes?: number }): number {
  return timeouts.runMinutes ?? timeouts.transferMinutes;
}
