import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageFiles, outputStems } from '../../src/io/image-files.js';

describe('image files', () => {
  it('lists a folder’s images sorted and names outputs without extensions unless stems collide', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgs-'));
    for (const f of ['b.png', 'a.jpg', 'a.png', 'notes.txt', 'c.JPEG']) writeFileSync(join(dir, f), '');
    const files = imageFiles(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['a.jpg', 'a.png', 'b.png', 'c.JPEG']);
    expect(outputStems(files)).toEqual(['a.jpg', 'a.png', 'b', 'c']);
    expect(outputStems([join(dir, 'x.webp')])).toEqual(['x']);
  });

  it('names the path of a missing input and of a folder without images', () => {
    expect(() => imageFiles('/nonexistent/img.png')).toThrow('--image /nonexistent/img.png: no such file or folder');
    const empty = mkdtempSync(join(tmpdir(), 'noimgs-'));
    expect(() => imageFiles(empty)).toThrow(`--image ${empty}: the folder has no images`);
  });
});
