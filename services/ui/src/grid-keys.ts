// Arrow keys in the result grid: where focus goes from a picture, given how many pictures a row holds.

export function gridStep(key: string, index: number, count: number, columns: number): number | null {
  switch (key) {
    case 'ArrowRight':
      return Math.min(count - 1, index + 1);
    case 'ArrowLeft':
      return Math.max(0, index - 1);
    case 'ArrowDown':
      return index + columns < count ? index + columns : count - 1;
    case 'ArrowUp':
      return index - columns >= 0 ? index - columns : index;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** Pictures in the first row: those whose top edge is the first one's. */
export function columnsOf(tops: number[]): number {
  const first = tops[0];
  const n = tops.findIndex((t) => t !== first);
  return Math.max(1, n === -1 ? tops.length : n);
}
