/** Max/min without spreading: activity sample arrays can exceed the engine's argument limit. */
export function maxOf(values: readonly number[]): number {
  let best = -Infinity;
  for (const v of values) if (v > best) best = v;
  return best;
}

export function minOf(values: readonly number[]): number {
  let best = Infinity;
  for (const v of values) if (v < best) best = v;
  return best;
}
