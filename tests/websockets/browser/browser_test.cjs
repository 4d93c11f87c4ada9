// SPDX-License-Identifier: Apache-2.0
// Loads browser/page.html in Debian's headless Chromium (driven by puppeteer-core, which
// downloads no browser) and relays the page's progress: prints "SUBSCRIBED" once the page
// has its subscriptions and has seen its own message come back, then "RESULT <json>"
// with every message the page received, or "FAIL why" and exits 1.
//
//   node browser_test.cjs MODULES_DIR URL [CHROMIUM]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const [modulesDir, url, chromium = '/usr/bin/chromium'] = process.argv.slice(2);
const puppeteer = require(path.resolve(modulesDir, 'puppeteer-core'));

function fail(why) {
  console.log(`FAIL ${why}`);
  process.exit(1);
}

async function main() {
  // The page and the bundle side by side in a private directory, loaded from file://.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'midge-browser-'));
  fs.copyFileSync(path.join(__dirname, 'page.html'), path.join(dir, 'page.html'));
  fs.copyFileSync(path.resolve(modulesDir, 'mqtt/dist/mqtt.min.js'), path.join(dir, 'mqtt.min.js'));
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           `--user-data-dir=${path.join(dir, 'profile')}`],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => console.log(`page: ${message.text()}`));
    page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
    await page.goto(`file://${dir}/page.html?url=${encodeURIComponent(url)}`);
    const title = async (prefixes, timeout) => {
      await page.waitForFunction(
        (wanted) => wanted.some((p) => document.title.startsWith(p)), { timeout }, prefixes);
      return page.title();
    };
    let now = await title(['subscribed', 'failed'], 20000);
    if (now.startsWith('failed')) fail(`page: ${now}`);
    console.log('SUBSCRIBED');
    now = await title(['done', 'failed'], 20000);
    if (now.startsWith('failed')) fail(`page: ${now}`);
    console.log(`RESULT ${now.slice('done '.length)}`);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error) => fail(error && error.message ? error.message : error));
