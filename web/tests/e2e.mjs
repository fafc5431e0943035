// Drives the dashboard in headless Chromium (Debian's, through
// playwright-core; no browser download) and prints TAP lines.
//   node e2e.mjs --url http://127.0.0.1:PORT --shots DIR [--suite real|fixture|perf]
//     [--services a,b,c] [--edges a>b,b>c] [--spans N] [--request SUBSTR] [--sensor ID]
//     [--budget-ms 1000]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = argv.indexOf(`--${name}`);
	return i >= 0 ? argv[i + 1] : dflt;
};
const url = opt('url', 'http://127.0.0.1:7070');
const shots = opt('shots', 'build/screenshots');
const suite = opt('suite', 'real');
const list = (s) => (s ? s.split(',').filter(Boolean) : []);
const expServices = list(opt('services', ''));
const expEdges = list(opt('edges', '')).map((e) => e.split('>'));
/* A service spec: "*" any, ":PORT" the service listening there, else its name. */
const matches = (n, spec) => !!n && (spec === '*' || (spec.startsWith(':') ? (n.ports || []).map(Number).includes(Number(spec.slice(1))) : n.name === spec));
const label = (n) => (n ? `${n.name}${n.ports && n.ports.length ? `:${n.ports.join(',')}` : ''}` : '?');
const expSpans = Number(opt('spans', '0'));
const reqFilter = opt('request', '');
const sensorId = opt('sensor', '');
// Only a benchmark sets a time budget (bench/web_map.sh); tests assert behaviour.
const budget = opt('budget-ms', '') ? Number(opt('budget-ms', '')) : Infinity;
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const prefix = opt('prefix', suite);

let failed = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => {
	failed++;
	console.log(`not ok - ${name}`);
	for (const l of String(why).split('\n').slice(0, 12)) console.log(`#   ${l}`);
};
async function step(name, fn) {
	try {
		const r = await fn();
		ok(r ? `${name}: ${r}` : name);
		return true;
	} catch (e) {
		notOk(name, e && e.stack ? e.stack : e);
		return false;
	}
}
const assert = (c, msg) => {
	if (!c) throw new Error(msg);
};

fs.mkdirSync(shots, { recursive: true });
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-chromium-'));
// A fresh profile each run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(userDir, {
	executablePath: browserPath,
	headless: true,
	viewport: { width: 1440, height: 900 },
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
		'--disable-sync', '--no-first-run', '--disable-quic'],
});
const page = context.pages()[0] || (await context.newPage());
const pageErrors = [];
const foreign = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
page.on('request', (r) => {
	const u = new URL(r.url());
	if (!['127.0.0.1', 'localhost'].includes(u.hostname) && u.protocol !== 'data:') foreign.push(r.url());
});
const shot = (name) => page.screenshot({ path: path.join(shots, `${prefix}-${name}.png`), fullPage: false });
const ready = (view, timeout = 15000) => page.waitForSelector(`#view > .page[data-view="${view}"][data-ready]`, { timeout });
const go = async (hash, view) => {
	await page.goto(`${url}/?refresh=1500#${hash}`);
	await ready(view);
};

async function clickMapElement(idOrKey) {
	const p = await page.evaluate((k) => {
		window.weftMap.focus(k);
		return window.weftMap.clientPoint(k);
	}, idOrKey);
	assert(p, `no element ${idOrKey} on the map`);
	await page.waitForTimeout(150);
	const q = await page.evaluate((k) => window.weftMap.clientPoint(k), idOrKey);
	await page.mouse.click(q.x, q.y);
}

async function mapSuite() {
	let nodes = [];
	let edges = [];
	await step('the map shows the expected services and edges', async () => {
		// Traffic may still be on its way through the sensor and the correlator: reload until it shows.
		const deadline = Date.now() + 30000;
		for (;;) {
			await go('/map?window=15m', 'map');
			const state = await page.evaluate(() => (window.weftMap ? { nodes: window.weftMap.nodes(), edges: window.weftMap.edges() } : { nodes: [], edges: [] }));
			nodes = state.nodes;
			edges = state.edges;
			const node = (i) => nodes.find((n) => n.id === i);
			const name = (i) => label(node(i));
			const missing = expServices.filter((s) => !nodes.some((n) => matches(n, s)));
			const missingE = expEdges.filter(([a, b]) => !edges.some((e) => matches(node(e.source), a) && matches(node(e.target), b)));
			if (!missing.length && !missingE.length) break;
			if (Date.now() > deadline) throw new Error(`missing services [${missing}] edges [${missingE.map((x) => x.join('>'))}]; have ${nodes.map((n) => n.name)} / ${edges.map((e) => `${name(e.source)}>${name(e.target)}`)}`);
			await page.waitForTimeout(1000);
		}
		await shot('map');
		return `${nodes.length} services, ${edges.length} edges; expected ${expServices.join(' ')} and ${expEdges.map((x) => x.join('→')).join(' ')} all found`;
	});
	const svc = nodes.find((n) => matches(n, expServices[1] || '*')) || nodes[0];
	await step('clicking a service opens its processes, threads, ports and latency', async () => {
		assert(svc, 'no service to click');
		await clickMapElement(svc.id);
		await page.waitForFunction((n) => document.querySelector('#detail-title')?.textContent === n, svc.name, { timeout: 5000 });
		const ports = await page.textContent('#map-side dl.kv');
		for (const p of svc.ports || []) assert(ports.includes(String(p)), `port ${p} not shown`);
		await page.waitForSelector('#map-side svg.chart', { timeout: 10000 });
		await page.waitForFunction(() => [...document.querySelectorAll('#map-side h4')].some((h) => /Processes/.test(h.textContent)) && !document.querySelector('#map-side .loading'), null, { timeout: 15000 });
		const procs = await page.$$eval('#map-side table', (ts) => ts.length);
		assert(new URL(page.url()).hash.includes(`sel=${svc.id}`), 'selection not kept in the address');
		await shot('map-service');
		const threads = await page.$$eval('#map-side td.tids', (t) => t.map((x) => x.textContent));
		if (suite === 'real') assert(threads.length > 0, 'no process or thread listed');
		return `${label(svc)}: ${threads.length} processes, threads ${threads.join(' | ')}`;
	});
	const node = (i) => nodes.find((n) => n.id === i);
	const name = (i) => label(node(i));
	const last = expEdges[expEdges.length - 1];
	const edge = last ? edges.find((e) => matches(node(e.source), last[0]) && matches(node(e.target), last[1])) : edges[0];
	await step('clicking an edge opens its recent exchanges', async () => {
		assert(edge, 'no edge to click');
		await clickMapElement(edge.key);
		await page.waitForFunction(() => (document.querySelector('#detail-title')?.textContent || '').includes('→'), null, { timeout: 5000 });
		await page.waitForFunction(() => !document.querySelector('#map-side .loading'), null, { timeout: 15000 });
		const rows = await page.$$eval('#map-side section:last-child tbody tr', (r) => r.length);
		await shot('map-edge');
		if (suite === 'real') assert(rows > 0, 'no recent exchange listed for the edge');
		return `${name(edge.source)} → ${name(edge.target)}, ${rows} exchanges`;
	});
	await step('live refresh keeps the selection', async () => {
		await page.waitForFunction(() => /updated/.test(document.querySelector('#live-status').textContent), null, { timeout: 10000 });
		const t = await page.textContent('#detail-title');
		assert(t.includes('→'), `selection lost after refresh: ${t}`);
	});
}

async function trajSuite() {
	let tid = '';
	await step('the trajectory list shows entries, paged on the server', async () => {
		const q = reqFilter ? `?window=1h&request=${encodeURIComponent(reqFilter)}` : '?window=1h';
		await go(`/trajectories${q}`, 'trajectories');
		const rows = await page.$$('#traj-list tbody tr');
		assert(rows.length > 0, 'no trajectories listed');
		// Pick one with the expected number of spans: the complete request.
		const cand = await page.$$eval('#traj-list tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.id, spans: Number(tr.children[4].textContent) })));
		const pick = cand.find((c) => !expSpans || c.spans === expSpans) || cand[0];
		tid = pick.id;
		await shot('trajectories');
		return `${rows.length} rows, total ${await page.getAttribute('#view > .page', 'data-total')}`;
	});
	await step('filters: errors only and a latency range narrow the list', async () => {
		await page.check('#traj-errors');
		await page.waitForFunction(() => !document.querySelector('#traj-list .loading'), null, { timeout: 10000 });
		const errRows = await page.$$eval('#traj-list tbody tr', (trs) => trs.filter((t) => !t.classList.contains('h-bad')).length);
		assert(errRows === 0, `${errRows} rows without an error under errors only`);
		await page.uncheck('#traj-errors');
		await page.waitForFunction(() => !document.querySelector('#traj-list .loading'), null, { timeout: 10000 });
		await page.fill('input[name=min_ms]', '100000');
		await page.press('input[name=min_ms]', 'Enter');
		await page.waitForSelector('#traj-list .empty', { timeout: 10000 });
		await page.click('text=Reset');
		await page.waitForSelector('#traj-list tbody tr', { timeout: 10000 });
	});
	await step(`a trajectory opens as a waterfall${expSpans ? ` with ${expSpans} spans` : ''}`, async () => {
		// Pick one anew: live traffic has moved the list on since the first look.
		const q = reqFilter ? `?window=1h&request=${encodeURIComponent(reqFilter)}` : '?window=1h';
		await go(`/trajectories${q}`, 'trajectories');
		const cand = await page.$$eval('#traj-list tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.id, spans: Number(tr.children[4].textContent) })));
		const pick = cand.find((c) => !expSpans || c.spans === expSpans);
		assert(pick, `no trajectory with ${expSpans} spans among ${cand.length}: ${cand.map((c) => c.spans).join(',')}`);
		tid = pick.id;
		await page.click(`#traj-list tr[data-id="${tid}"] a`);
		await ready('trajectories');
		await page.waitForSelector('#waterfall', { timeout: 10000 });
		const n = Number(await page.getAttribute('#waterfall', 'data-spans'));
		const bars = await page.$$eval('#waterfall .wf-row:not(.wf-axis)', (r) => r.length);
		if (expSpans) assert(n === expSpans && bars === expSpans, `waterfall has ${n} spans (${bars} rows), expected ${expSpans}`);
		const segs = await page.$$eval('#waterfall .seg', (s) => [...new Set(s.map((x) => x.className))]);
		assert(segs.some((c) => c.includes('server')), `no server bars: ${segs}`);
		if (suite === 'fixture') {
			const m = await page.$$eval('#waterfall .wf-row', (rows) => rows.filter((r) => r.querySelector('.proto')?.textContent === 'method').map((r) => `${r.querySelector('.req').textContent} ${r.querySelector('.who').textContent} ${r.querySelectorAll('.seg.method').length}`));
			assert(m.length === 1 && m[0] === 'com.shop.Stock.check back@h1 thread 301 1', `method row: ${JSON.stringify(m)}`);
		}
		const slow = await page.$$('#waterfall .wf-row.slow');
		assert(slow.length === 1, 'slowest span not highlighted');
		await page.click('#waterfall .wf-row.slow');
		await page.waitForSelector('#span-detail dl');
		await shot('waterfall');
		return `${n} spans, bars: ${segs.join(' / ')}`;
	});
}

async function sensorSuite() {
	await step('the sensors page lists the host', async () => {
		await go('/sensors', 'sensors');
		const sel = sensorId ? `tr[data-sensor="${sensorId}"]` : 'tr[data-sensor]';
		await page.waitForSelector(sel, { timeout: 10000 });
		await shot('sensors');
	});
	for (const [label, cmd, mode] of [['connection-only', 'messages off', 'connections'], ['message-level', 'messages on', 'messages']]) {
		await step(`switching to ${label} capture reaches the sensor`, async () => {
			const row = sensorId ? `tr[data-sensor="${sensorId}"]` : 'tr[data-sensor]';
			await page.click(`${row} button[data-cmd="${cmd}"]`);
			await page.waitForSelector('#control-replies p.reply-ok, #control-replies p.reply-err', { timeout: 10000 });
			const err = await page.$('#control-replies p.reply-err');
			if (err) throw new Error(await err.textContent());
			await page.waitForSelector(`${row}[data-mode="${mode}"]`, { timeout: 15000 });
			if (mode === 'connections') await shot('sensors-connections');
			const reply = await page.textContent('#control-replies p:first-child');
			await page.evaluate(() => document.querySelector('#control-replies').replaceChildren());
			return reply.trim();
		});
	}
}

async function narrowSuite() {
	await step('narrowing message capture to one process name reaches the sensor', async () => {
		const row = sensorId ? `tr[data-sensor="${sensorId}"]` : 'tr[data-sensor]';
		await page.selectOption(`${row} form.narrow select`, 'comm');
		await page.fill(`${row} form.narrow input`, 'python3');
		await page.click(`${row} form.narrow button[type=submit]`);
		await page.waitForSelector('#control-replies p.reply-ok, #control-replies p.reply-err', { timeout: 10000 });
		const err = await page.$('#control-replies p.reply-err');
		if (err) throw new Error(await err.textContent());
		const reply = (await page.textContent('#control-replies p:first-child')).trim();
		await page.evaluate(() => document.querySelector('#control-replies').replaceChildren());
		await page.click(`${row} form.narrow button[type=button]`);
		await page.waitForSelector('#control-replies p.reply-ok', { timeout: 10000 });
		return `${reply}; then ${(await page.textContent('#control-replies p:first-child')).trim()}`;
	});
}

async function perfSuite() {
	await step(`a map of ${opt('services', '?')} services and ${opt('edges', '?')} edges is interactive${budget < Infinity ? ` within ${budget} ms` : ''} (median of 5 cold loads)`, async () => {
		// The browser itself warms up on another view first (its own start-up
		// is not the map's); the map's loads below are cold: nothing cached.
		await go('/sensors', 'sensors');
		const runs = [];
		for (let i = 0; i < 5; i++) {
			// Cold: no layout remembered from an earlier load.
			await page.goto(`${url}/api/health`);
			await page.evaluate(() => localStorage.clear());
			await page.goto('about:blank');
			await page.goto(`${url}/?refresh=600000#/map?window=15m`);
			await ready('map', 20000);
			const m = await page.evaluate(() => {
				const e = performance.getEntriesByName('weft-map-interactive')[0];
				const mk = (n) => (performance.getEntriesByName(n)[0] || {}).startTime;
				return { tti: e ? e.startTime : NaN, layout: Number(document.querySelector('#view > .page').dataset.layoutMs), fetched: mk('weft-map-fetched'), drawn: mk('weft-map-drawn'), nodes: window.weftMap.nodes().length, edges: window.weftMap.edges().length };
			});
			// Interactive means it answers: a click on a service opens its panel.
			const t0 = Date.now();
			const target = await page.evaluate(() => window.weftMap.nodes()[5].id);
			const p = await page.evaluate((k) => window.weftMap.clientPoint(k), target);
			await page.mouse.click(p.x, p.y);
			await page.waitForSelector('#detail-title', { timeout: 5000 });
			m.click = Date.now() - t0;
			runs.push(m);
		}
		// Warm: a reload that finds the same services reuses their layout.
		await page.goto('about:blank');
		await page.goto(`${url}/?refresh=600000#/map?window=15m`);
		await ready('map', 20000);
		const warm = await page.evaluate(() => performance.getEntriesByName('weft-map-interactive')[0].startTime);
		const warmMarks = await page.evaluate(() => ['responseEnd', 'domInteractive'].map((k) => `${k} ${performance.getEntriesByType('navigation')[0][k].toFixed(0)}`).concat(performance.getEntriesByType('mark').map((m) => `${m.name} ${m.startTime.toFixed(0)}`)).join(', '));
		await shot('map-large');
		const sorted = runs.map((r) => r.tti).sort((a, b) => a - b);
		const med = sorted[Math.floor(sorted.length / 2)];
		const r = runs[0];
		const expN = Number(opt('services', '0')), expE = Number(opt('edges', '0'));
		assert(!expN || r.nodes === expN, `map has ${r.nodes} services, expected ${expN}`);
		assert(!expE || r.edges === expE, `map has ${r.edges} edges, expected ${expE}`);
		const line = `time to interactive ${runs.map((x) => x.tti.toFixed(0)).join('/')} ms (median ${med.toFixed(0)}), layout ${runs.map((x) => x.layout.toFixed(0)).join('/')} ms, data in at ${runs.map((x) => x.fetched.toFixed(0)).join('/')} ms, drawn at ${runs.map((x) => x.drawn.toFixed(0)).join('/')} ms, click to panel ${runs.map((x) => x.click).join('/')} ms; reload with the layout remembered ${warm.toFixed(0)} ms (${warmMarks})`;
		fs.writeFileSync(path.join(shots, `${prefix}-perf.txt`), `${line}\n`);
		assert(med < budget, line);
		return line;
	});
	await step('the trajectory list pages quickly', async () => {
		await page.goto(`${url}/?refresh=600000#/trajectories?window=all`);
		await ready('trajectories', 20000);
		const times = [];
		const rowIds = () => page.$$eval('#traj-list tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
		const pages = [await rowIds()];
		for (let i = 0; i < 3; i++) {
			const t0 = Date.now();
			await page.click('#traj-next');
			await page.waitForFunction((n) => new URL(location.href).hash.includes(`page=${n}`) && !document.querySelector('#traj-list .loading'), i + 1, { timeout: 10000 });
			times.push(Date.now() - t0);
			pages.push(await rowIds());
		}
		const info = await page.textContent('#traj-info');
		await shot('trajectories-large');
		assert(Math.max(...times) < budget, `pages took ${times} ms`);
		// four pages of different trajectories, and back one page shows the third again
		assert(new Set(pages.flat()).size === 200, `pages overlap: ${new Set(pages.flat()).size} distinct of 200`);
		await page.click('#traj-prev');
		await page.waitForFunction(() => new URL(location.href).hash.includes('page=2') && !document.querySelector('#traj-list .loading'), null, { timeout: 10000 });
		assert((await rowIds()).join() === pages[2].join(), 'back one page: not the page seen before');
		return `${info}; next page in ${times.join('/')} ms`;
	});
}

async function emptySuite() {
	for (const [hash, view, text] of [['/map', 'map', 'No traffic'], ['/trajectories', 'trajectories', 'No trajectories'], ['/sensors', 'sensors', 'No sensor connected']]) {
		await step(`${view}: an empty state says what to do next`, async () => {
			await go(hash, view);
			const t = await page.textContent('#view .empty');
			assert(t.includes(text) && /weft sensor/.test(t), t);
			await shot(view);
		});
	}
	await step('a server error shows in the page', async () => {
		await page.goto(`${url}/#/trajectories/0123456789abcdef`);
		await page.waitForSelector('#view .empty, #view .error', { timeout: 10000 });
	});
}

try {
	if (suite === 'perf') await perfSuite();
	else if (suite === 'empty') await emptySuite();
	else {
		await mapSuite();
		await trajSuite();
		await sensorSuite();
		await narrowSuite();
	}
	await step('no script errors and no request leaves 127.0.0.1', async () => {
		const errs = pageErrors.filter((e) => !/404|Not Found/i.test(e));
		assert(!errs.length, `page errors: ${errs.join('; ')}`);
		assert(!foreign.length, `foreign requests: ${foreign.join(' ')}`);
	});
} finally {
	await context.close();
	fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
