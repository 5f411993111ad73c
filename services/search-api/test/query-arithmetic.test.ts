import { describe, expect, it } from 'vitest';
import { combineVectors } from '../src/query-arithmetic.ts';

describe('combineVectors', () => {
  it('sums unit vectors by weight and returns a unit vector', () => {
    const v = combineVectors([
      { vector: [2, 0], weight: 1 },
      { vector: [0, 5], weight: -1 },
    ]);
    expect(Array.from(v ?? [])).toEqual([Math.fround(Math.SQRT1_2), Math.fround(-Math.SQRT1_2)]);
  });

  it('says when the parts cancel out, and when there are none', () => {
    expect(
      combineVectors([
        { vector: [1, 1], weight: 1 },
        { vector: [2, 2], weight: -1 },
      ]),
    ).toBeNull();
    expect(combineVectors([])).toBeNull();
  });
});
