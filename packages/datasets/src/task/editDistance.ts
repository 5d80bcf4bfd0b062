/** Levenshtein distance between two strings, over code points (insert, delete, substitute: cost 1). */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  if (x.length === 0) return y.length;
  if (y.length === 0) return x.length;
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  let curr = new Array<number>(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    curr[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const substitute = prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1);
      curr[j] = Math.min(substitute, prev[j] + 1, curr[j - 1] + 1);
    }
    [prev, curr] = [curr, prev];
  }
  return prev[y.length];
}

/** Edit distance divided by the longer length: 0 for equal strings, 1 for nothing in common. */
export function normalizedEditDistance(a: string, b: string): number {
  const longest = Math.max([...a].length, [...b].length);
  return longest === 0 ? 0 : editDistance(a, b) / longest;
}
