/**
 * The name as the kiosk may show it to people standing nearby: the first character
 * (the family name in Chinese) and one "*" per further character, e.g. 张三 → 张*.
 * Works on code points so a CJK or emoji character is never cut in half.
 */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  const first = chars[0];
  if (first === undefined) return '';
  // A long Latin name would reveal its length; cap the stars.
  return first + '*'.repeat(Math.min(chars.length - 1, 3));
}
