/** What the benchmark says about a list of samples: medians, spreads and per-round ratios. */

export interface Summary {
  /** The middle sample; with an even count, the mean of the two middle ones. */
  median: number;
  min: number;
  max: number;
  /** How many samples it was made of. */
  n: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(values: number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

export interface RatioSummary {
  /** ours' median over the peer's: the number the target is about. */
  ofMedians: number;
  /**
   * Spread of ours / peer taken round by round: both sides of a round ran back to back, so a round's
   * ratio shares that moment's machine load, which the two medians need not.
   */
  min: number;
  max: number;
}

export function ratios(ours: number[], peer: number[]): RatioSummary {
  const perRound = ours.slice(0, peer.length).map((o, i) => o / peer[i]);
  return {
    ofMedians: median(ours) / median(peer),
    min: Math.min(...perRound),
    max: Math.max(...perRound),
  };
}
