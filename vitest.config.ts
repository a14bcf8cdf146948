import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The AWS SDK's notice that its 2027 releases need Node 22 (README says so once).
    // and handlers' INFO lines (tests assert on behaviour, not on logs).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'WARN' },
    // The fault matrix's one-line verdict (test/faults/) after the usual report.
    reporters: ['default', './test/faults/reporter.ts'],
    // Many tests run the real AWS CLI (a Python start of 1-2 s, more on a busy 2-core machine);
    // the 5 s default failed them under load. Slow scenarios set their own, longer timeouts.
    testTimeout: 30_000,
  },
});
