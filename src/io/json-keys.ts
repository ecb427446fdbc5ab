/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys silently; formats
 * whose reference readers refuse duplicates (safetensors headers) need to see them. Written by
 * hand: a scan of already-valid JSON for object keys is a few lines, and no maintained library
 * reports duplicates without replacing `JSON.parse`.
 */

/**
 * The first key that appears twice in one object of `text` (as a dotted path, e.g.
 * `weight` or `weight.dtype`), or undefined. `text` must be valid JSON (parse it first).
 */
export function firstDuplicateKey(text: string): string | undefined {
  // One frame per open object / array: the keys seen so far (objects) and the key being read.
  const frames: Array<{ keys: Set<string> | null; key: string }> = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = frames[frames.length - 1];
      // A string is a key when the next non-space character is ':'.
      let k = j + 1;
      while (k < n && (text[k] === ' ' || text[k] === '\n' || text[k] === '\r' || text[k] === '\t')) k++;
      if (top?.keys && text[k] === ':') {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return [...frames.slice(0, -1).map((f) => f.key), key].filter((s) => s !== '').join('.');
        top.keys.add(key);
        top.key = key;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') frames.push({ keys: new Set(), key: '' });
    else if (c === '[') frames.push({ keys: null, key: '' });
    else if (c === '}' || c === ']') frames.pop();
    i++;
  }
  return undefined;
}
