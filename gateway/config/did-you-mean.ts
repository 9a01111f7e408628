// "Did you mean …?" for a misspelt key, profile name or option. Written here rather than
// taken from a package: none is installed (commander has one, but as an unexported
// internal file), and the twenty lines below are all it takes.

/** Letters only, lower case: `pseudonym_secret_file` and `pseudonymSecretFile` compare equal. */
function fold(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** Edit distance with adjacent swaps counted once (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The candidate closest to `typed`, when it is close enough to be a slip (case, "-" and "_"
 * ignored): one edit in a word of up to four letters, else two, or one per four letters in
 * long words. null otherwise.
 */
export function didYouMean(typed: string, candidates: Iterable<string>): string | null {
  const t = fold(typed);
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === typed) continue;
    const distance = editDistance(t, fold(c));
    if (distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  if (best === null) return null;
  const length = Math.max(t.length, fold(best).length);
  const limit = length <= 4 ? 1 : Math.max(2, Math.floor(length / 4));
  return bestDistance <= limit ? best : null;
}

/** `; did you mean "x"?` or '' — to append to a message. */
export function suggestion(typed: string, candidates: Iterable<string>): string {
  const best = didYouMean(typed, candidates);
  return best === null ? '' : `; did you mean "${best}"?`;
}
