/**
 * The fault matrix's verdict: after a run that included scenarios of test/faults/ (`npm run
 * test:faults`, and `npm test`), one line with how many ran and passed and the instances leaked and
 * files lost across all of them (each scenario test records these in its meta, see harness.ts).
 */
import type { Reporter, TestModule } from 'vitest/node';
import type { ScenarioMeta } from './harness.js';

declare module 'vitest' {
  interface TaskMeta {
    faultScenario?: ScenarioMeta;
  }
}

export default class FaultMatrixReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let scenarios = 0;
    let passed = 0;
    let leaked = 0;
    let lost = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const meta = test.meta().faultScenario;
        if (!meta) continue;
        scenarios += 1;
        if (test.result().state === 'passed') passed += 1;
        leaked += meta.leaked;
        lost += meta.lost;
      }
    }
    if (scenarios === 0) return;
    process.stdout.write(
      `faults: ${scenarios} scenarios, ${passed} passed, leaked instances ${leaked}, lost files ${lost}\n`,
    );
  }
}
