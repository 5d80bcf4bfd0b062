import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ganpo, missingBuild, ROOT, tempDir, TINY } from './helpers/cli.js';
import { decodePng, pngColours } from './helpers/png.js';

/**
 * report.html in headless Chromium: packages/cli/scripts/screenshot-report.sh renders a trained run's report
 * and the PNG must be a real page (right size, many distinct colours: tables, plot lines, legends), not a
 * blank or error page. Runs where Debian's `chromium` is installed; elsewhere the test is skipped, and says so,
 * unless GANPO_REQUIRE_CHROMIUM=1 (set by .ci/run, which installs chromium): then a missing chromium fails.
 */

const SCRIPT = join(ROOT, 'packages/cli/scripts/screenshot-report.sh');
const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0) ?? process.env.CHROMIUM;
const missing = missingBuild();

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
    const { distinct, matching: blue } = pngColours(img, 0x4e79a7);
    expect(distinct).toBeGreaterThan(50);
    // The palette's first colour (plot lines) is on the page.
    expect(blue).toBeGreaterThan(20);
  }, 180_000);

  it('the script explains what is missing', () => {
    const r = spawnSync('bash', [SCRIPT, join(tempDir('noreport'), 'nothing')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('report.html does not exist');
  });
});
