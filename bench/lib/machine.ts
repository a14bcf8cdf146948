/** Facts about the machine a bench ran on, beyond what node:os tells. */
import { execFileSync } from 'node:child_process';

/** `aws --version` (the CLI both the raw sync and the transfer instance's sync use), or why not. */
export function awsCliVersion(): string {
  try {
    return execFileSync('aws', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    return `unavailable: ${(error as Error).message.split('\n')[0]}`;
  }
}
