/**
 * Runs one `aws:runShellScript` step with bash on this machine, as the SSM agent does on an
 * instance: the commands are written to `_script.sh` in the step's orchestration directory and
 * run in their own process group; stdout/stderr go to files there (the full output, as the agent
 * would send to CloudWatch Logs) and the first 24,000 / 8,000 characters are kept for
 * GetCommandInvocation. The execution timeout (scaled) kills the process group (TimedOut);
 * `cancel()` sends SIGTERM, then SIGKILL after 2 s (Cancelled).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STDOUT_LIMIT = 24_000;
export const STDERR_LIMIT = 8_000;

export interface ShellStepOptions {
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where `_script.sh`, `stdout` and `stderr` are written. */
  orchestrationDir: string;
  /** Real milliseconds before the step is killed as TimedOut. */
  timeoutMs: number;
}

export interface ShellStepResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  outcome: 'exited' | 'timed-out' | 'cancelled';
}

export interface RunningStep {
  result: Promise<ShellStepResult>;
  cancel(): void;
}

export function runShellStep(options: ShellStepOptions): RunningStep {
  mkdirSync(options.orchestrationDir, { recursive: true });
  mkdirSync(options.cwd, { recursive: true });
  const scriptFile = join(options.orchestrationDir, '_script.sh');
  writeFileSync(scriptFile, options.script, { mode: 0o700 });
  const stdoutFile = createWriteStream(join(options.orchestrationDir, 'stdout'));
  const stderrFile = createWriteStream(join(options.orchestrationDir, 'stderr'));
  let stdout = '';
  let stderr = '';
  let outcome: ShellStepResult['outcome'] = 'exited';
  let killTimer: NodeJS.Timeout | undefined;

  const child = spawn('bash', [scriptFile], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutFile.write(chunk);
    if (stdout.length < STDOUT_LIMIT) stdout = (stdout + chunk.toString('utf8')).slice(0, STDOUT_LIMIT);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderrFile.write(chunk);
    if (stderr.length < STDERR_LIMIT) stderr = (stderr + chunk.toString('utf8')).slice(0, STDERR_LIMIT);
  });
  const timeout = setTimeout(() => {
    outcome = 'timed-out';
    killGroup('SIGKILL');
  }, options.timeoutMs);

  const result = new Promise<ShellStepResult>((resolve) => {
    let finished = false;
    const finish = (exitCode: number) => {
      if (finished) return;
      finished = true;
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      // The step is over only once its output files are flushed too (as the agent uploads them).
      let open = 2;
      const flushed = () => {
        open -= 1;
        if (open === 0) resolve({ exitCode, stdout, stderr, outcome });
      };
      stdoutFile.end(flushed);
      stderrFile.end(flushed);
    };
    child.on('error', (error) => {
      stderr += `failed to run commands: ${error.message}\n`;
      finish(1);
    });
    // Background processes the script left behind die with it (they would hold the pipes open).
    child.on('exit', () => killGroup('SIGKILL'));
    child.on('close', (code, signal) => {
      if (outcome === 'timed-out')
        stderr = `${stderr}\nfailed to run commands: exit status 1 (execution timed out)\n`.slice(
          0,
          STDERR_LIMIT,
        );
      finish(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1));
    });
  });

  return {
    result,
    cancel() {
      if (outcome !== 'exited') return;
      outcome = 'cancelled';
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), 2000);
    },
  };
}
