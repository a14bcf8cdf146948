/**
 * ASL reference paths and EventBridge input paths: `$`, `$.a.b`, `$.a[0]`, `$['a-b']` (no filters,
 * wildcards or slices, which reference paths do not allow).
 */

/** Evaluates a simple JSONPath against a value; undefined when a step is missing. */
export function jsonPathGet(value: unknown, path: string): unknown {
  if (path === '$') return value;
  const tokens = path.replace(/^\$/, '').match(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]|\["([^"]+)"\]/g);
  let current: unknown = value;
  for (const token of tokens ?? []) {
    const key = token.startsWith('.') ? token.slice(1) : token.replace(/^\[['"]?|['"]?\]$/g, '');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
