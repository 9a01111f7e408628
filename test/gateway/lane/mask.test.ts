import { describe, expect, it } from 'vitest';
import { maskName } from '../../../gateway/lane/mask.js';

describe('masking a name for the kiosk', () => {
  it.each([
    ['张三', '张*'],
    ['欧阳娜娜', '欧***'],
    ['李小明', '李**'],
    ['Christopher', 'C***'],
    ['  王五 ', '王*'],
    ['A', 'A'],
    ['', ''],
    ['😀abc', '😀***'],
  ])('shows %j as %j', (name, masked) => {
    expect(maskName(name)).toBe(masked);
  });
});
