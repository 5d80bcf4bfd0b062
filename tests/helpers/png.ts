import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';

/** Width, height and the decoded RGB(A) rows of a non-interlaced 8-bit PNG (what Chromium writes). */
export function decodePng(bytes: Buffer): { width: number; height: number; pixels: (x: number, y: number) => number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    const len = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8);
      colorType = data[9];
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + len;
  }
  const channels = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      out[y * stride + x] = (line[x] + pred) & 0xff;
    }
  }
  return { width, height, pixels: (x, y) => out.readUIntBE(y * stride + x * channels, 3) };
}

/** Distinct colours on a 7-pixel grid and the pixels of one exact colour (2-pixel grid) of a decoded PNG. */
export function pngColours(img: ReturnType<typeof decodePng>, colour: number): { distinct: number; matching: number } {
  const colours = new Set<number>();
  for (let y = 0; y < img.height; y += 7) for (let x = 0; x < img.width; x += 7) colours.add(img.pixels(x, y));
  let matching = 0;
  for (let y = 0; y < img.height; y += 2) for (let x = 0; x < img.width; x += 2) if (img.pixels(x, y) === colour) matching++;
  return { distinct: colours.size, matching };
}
