/**
 * bundles.maxZipBytes: the size of every function's zip as `npm run package` builds it (the largest
 * is the figure; each one is in the details).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Benchmark } from './lib/figures.js';

/** Every function zip of a packaged copy: function key -> bytes, largest first. */
export function zipSizes(packagedDir: string): Record<string, number> {
  const dir = join(packagedDir, '.serverless');
  const sizes = readdirSync(dir)
    .filter((file) => file.endsWith('.zip'))
    .map((file) => [file.replace(/\.zip$/, ''), statSync(join(dir, file)).size] as const)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(sizes);
}

const bundles: Benchmark<'bundles'> = {
  figure: 'bundles',
  title: 'function packages (zip)',
  order: 10,
  prepare: (context) => context.packaged(),
  async run(context) {
    const packaged = await context.packaged();
    const sizes = zipSizes(packaged.dir);
    const values = Object.values(sizes);
    if (values.length === 0) throw new Error('npm run package wrote no function zip');
    return {
      value: { maxZipBytes: Math.max(...values) },
      details: { functions: values.length, zipBytes: sizes },
    };
  },
};

export default bundles;
