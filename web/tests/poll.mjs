// Keeps the dashboard open in headless Chromium (Debian's, through
// playwright-core) for a while, its live refresh on, moving between the
// views as a user would: weft's own API traffic, for the tests that check
// it stays out of the user's map.
//   node poll.mjs --url http://127.0.0.1:PORT --seconds 20 [--refresh-ms 1000]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const opt = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const url = opt('url', 'http://127.0.0.1:7070');
const seconds = Number(opt('seconds', '20'));
const refresh = Number(opt('refresh-ms', '1000'));

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-chromium-'));
const context = await chromium.launchPersistentContext(userDir, {
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
		'--disable-sync', '--no-first-run', '--disable-quic'],
});
const page = context.pages()[0] || (await context.newPage());
const end = Date.now() + seconds * 1000;
const views = ['map', 'trajectories', 'sensors'];
let loads = 0;
try {
	for (let i = 0; Date.now() < end; i++) {
		await page.goto(`${url}/?refresh=${refresh}#/${views[i % views.length]}`);
		loads++;
		await page.waitForTimeout(Math.min(5000, Math.max(0, end - Date.now())));
	}
	console.log(`ok - dashboard polled for ${seconds} s (${loads} page loads, refresh every ${refresh} ms)`);
} catch (e) {
	console.log(`not ok - dashboard polled for ${seconds} s\n#   ${e.message}`);
} finally {
	await context.close();
	fs.rmSync(userDir, { recursive: true, force: true });
}
