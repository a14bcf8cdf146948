#!/usr/bin/env node
// Entry point of the `fsx-transfer` command: loads the TypeScript sources through tsx, so
// `npx fsx-transfer` works right after `npm ci` without a build step.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start that its 2027 releases need Node 22; README says so once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Lambda handlers that run in this process (demo, local up) log warnings only (shared/lambda.ts).
process.env.FSX_TRANSFER_CLI = '1';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
