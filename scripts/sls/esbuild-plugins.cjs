/**
 * esbuild plugins of the function bundles (serverless.yml custom.esbuild.plugins). Each keeps a
 * function's zip small (issue 12: <= 300 KB each) without changing what the code does:
 *
 * - treeShakeableSdkSchemas: the AWS SDK v3 clients describe every operation of their service in
 *   one schemas file (EC2: 550 KB minified). Its object literals use computed keys naming module
 *   constants (`{ [_xN]: _BDM }` with `const _xN = "xmlName"`); esbuild keeps any statement with a
 *   computed key (the key's toString could have a side effect), so every schema stays in every
 *   bundle that uses the client. Writing those keys as the string literals they stand for makes
 *   the unused schemas droppable; the objects are the same. Only keys naming a `const _x = "..."`
 *   of the same file are rewritten.
 * - sideEffectFreeLibDynamoDb: @aws-sdk/lib-dynamodb declares no `sideEffects` in its package.json
 *   (its modules only declare classes and functions), so esbuild kept it, and the DynamoDB client
 *   it extends, in every function that imports shared/aws/clients.ts, DynamoDB user or not.
 *   Marking its entry side-effect free lets esbuild drop it where nothing uses it.
 * - sourceMapsOutsideZip: source maps are written next to the bundle (`sourcemap: external`, no
 *   sourceMappingURL comment) and moved to .serverless/sourcemaps/<function path>.map before the
 *   zip is made. A map with its sources is 5 MB per function: inside the zip it was most of the
 *   package and Node parsed it at every cold start (--enable-source-maps). Kept as build artifacts,
 *   they turn a minified stack trace (names kept: keepNames) back into file:line when needed.
 */
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } = require('node:fs');
const { basename, join } = require('node:path');

/** Computed keys `[ _name ]:` after `{` or `,`, the only places generated schemas use them. */
const COMPUTED_KEY = /([{,]\s*)\[(_\w+)\]:/g;
/** Module constants holding a plain string: `const _xN = "xmlName";`. */
const STRING_CONSTANT = /^const (_\w+) = ("[^"\\\n]*");$/gm;

/** The schemas file's source with every computed key that names a string constant written as that string. */
function inlineSchemaKeys(source) {
  const constants = new Map();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT)) constants.set(name, literal);
  return source.replace(COMPUTED_KEY, (whole, before, name) =>
    constants.has(name) ? `${before}${constants.get(name)}:` : whole,
  );
}

const treeShakeableSdkSchemas = {
  name: 'tree-shakeable-sdk-schemas',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/](.+[\\/])?schemas[\\/]schemas_\d+\.js$/ },
      (args) => ({
        contents: inlineSchemaKeys(readFileSync(args.path, 'utf8')),
        loader: 'js',
      }),
    );
  },
};

const sideEffectFreeLibDynamoDb = {
  name: 'side-effect-free-lib-dynamodb',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/lib-dynamodb$/ }, async (args) => {
      if (args.pluginData?.resolving) return undefined;
      const { kind, importer, resolveDir } = args;
      const resolved = await build.resolve(args.path, {
        kind,
        importer,
        resolveDir,
        pluginData: { resolving: true },
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, namespace: resolved.namespace, sideEffects: false };
    });
  },
};

/**
 * Moves the maps esbuild wrote into a bundle's `outdir` (serverless-esbuild: <build dir>/<function
 * folder>) to `<mapsDir>/<function folder>/`, before serverless-esbuild zips the build dir.
 */
function sourceMapsOutsideZip(mapsDir) {
  return {
    name: 'source-maps-outside-zip',
    setup(build) {
      build.onEnd((result) => {
        const outdir = build.initialOptions.outdir;
        if (!outdir || result.errors.length > 0 || !existsSync(outdir)) return;
        const folder = outdir.split(/[\\/]\.build[\\/]/)[1] ?? basename(outdir);
        for (const name of readdirSync(outdir).filter((file) => file.endsWith('.map'))) {
          mkdirSync(join(mapsDir, folder), { recursive: true });
          renameSync(join(outdir, name), join(mapsDir, folder, name));
        }
      });
    },
  };
}

/** serverless-esbuild calls this with the serverless instance. */
module.exports = (serverless) => [
  treeShakeableSdkSchemas,
  sideEffectFreeLibDynamoDb,
  sourceMapsOutsideZip(join(serverless.config.servicePath, '.serverless', 'sourcemaps')),
];
module.exports.inlineSchemaKeys = inlineSchemaKeys;
