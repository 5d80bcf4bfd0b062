import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ganpo, missingBuild, ROOT, tempDir, TINY } from './helpers/cli.js';

/**
 * report.html in headless Chromium: packages/cli/scripts/screenshot-report.sh renders a trained run's report
 * and the PNG must be a real page (right size, many distinct colours: tables, plot lines, legends), not a
 * blank or error page. Runs where Debian's `chromium` is installed; elsewhere the test is skipped, and says so,
 * unless GANPO_REQUIRE_CHROMIUM=1 (set by .ci/run, which installs chromium): then a missing chromium fails.
 */

const SCRIPT = join(ROOT, 'packages/cli/scripts/screenshot-report.sh');
const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0) ?? process.env.CHROMIUM;
const missing = missingBuild();

/** Width, height and the decoded RGB(A) rows of a non-interlaced 8-bit PNG (what Chromium writes). */
function decodePng(bytes: Buffer): { width: number; height: number; pixels: (x: number, y: number) => number } {
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

describe('report.html in headless Chromium', () => {
  if (missing) {
    it('needs the built CLI', () => {
      throw new Error(missing);
    });
    return;
  }
  if (!chromium && process.env.GANPO_REQUIRE_CHROMIUM === '1') {
    // CI installs chromium: there the screenshot test must run, never skip.
    it('required by GANPO_REQUIRE_CHROMIUM=1 but no chromium was found', () => {
      throw new Error('chromium is required (GANPO_REQUIRE_CHROMIUM=1) but none of chromium, chromium-browser, google-chrome (or $CHROMIUM) is on this machine');
    });
    return;
  }
  if (!chromium) {
    it.skip('skipped: no chromium here (Debian: apt-get install -y chromium); run packages/cli/scripts/screenshot-report.sh RUN_DIR by hand', () => {});
    console.warn('cli-report-screenshot: chromium is not installed; the screenshot test is skipped');
    return;
  }

  it('renders the report of a trained run to a non-blank screenshot', async () => {
    const dir = tempDir('screenshot');
    const run = await ganpo(['train', ...TINY, '--out', dir, '--quiet']);
    expect(run.code).toBe(0);
    const png = join(dir, 'report.png');
    const out = execFileSync('bash', [SCRIPT, dir, png, '1200x1800'], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toContain('wrote');
    expect(existsSync(png)).toBe(true);
    expect(statSync(png).size).toBeGreaterThan(30_000);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1200, 1800]);
    const colours = new Set<number>();
    for (let y = 0; y < img.height; y += 7) for (let x = 0; x < img.width; x += 7) colours.add(img.pixels(x, y));
    expect(colours.size).toBeGreaterThan(50);
    // The palette's first colour (plot lines) is on the page.
    let blue = 0;
    for (let y = 0; y < img.height; y += 2) for (let x = 0; x < img.width; x += 2) if (img.pixels(x, y) === 0x4e79a7) blue++;
    expect(blue).toBeGreaterThan(20);
  }, 180_000);

  it('the script explains what is missing', () => {
    const r = spawnSync('bash', [SCRIPT, join(tempDir('noreport'), 'nothing')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('report.html does not exist');
  });
});
