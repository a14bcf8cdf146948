import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The AWS SDK's notice that its 2027 releases need Node 22 (README says so once).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
