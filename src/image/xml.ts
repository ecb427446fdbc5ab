/** Text for SVG drawn over images (overlays, legends, contact sheets). */

/** `s` with the five XML special characters escaped, for SVG text and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}
