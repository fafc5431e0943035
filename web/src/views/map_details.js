// The side panel of the map: a service (its processes, threads and ports,
// its callers and callees, latency over time) or an edge (its figures,
// latency over time and its recent exchanges). Processes, threads and
// exchanges come from the spans of the application's recent trajectories.
import { get, query, id, num, nowNs } from '../api.js';
import { h, ms, rate, pct, count, bytes, clock, dur, loading, empty, errorBox } from '../format.js';
import { nodeName, windowSeconds } from './map.js';

const BUCKETS = 12;
const SAMPLE_TRAJ = 30; // recent trajectories listed per panel
const SAMPLE_DETAIL = 10; // of which opened for their spans

/* Results kept for a while by key: the panels refresh every few seconds,
 * and twelve map windows or ten trajectories need not be re-read each time. */
const memo = new Map();
function cached(key, ttlMs, produce) {
	const hit = memo.get(key);
	if (hit && Date.now() - hit.t < ttlMs) return hit.p;
	const p = produce();
	memo.set(key, { t: Date.now(), p });
	p.catch(() => memo.delete(key));
	if (memo.size > 50) memo.delete(memo.keys().next().value);
	return p;
}

/* Spans of the most recent trajectories of one application within the window. */
async function recentSpans(app, win) {
	const since = nowNs() - BigInt(windowSeconds(win)) * 1000000000n;
	const appParam = app && !app.startsWith('solo-') ? app : undefined;
	const list = await get(`/api/trajectories${query({ limit: SAMPLE_TRAJ, since: since.toString(), application: appParam })}`);
	const ids = (list.trajectories || []).slice(0, SAMPLE_DETAIL).map((t) => id(t.id));
	const docs = await Promise.all(ids.map((t) => get(`/api/trajectories/${encodeURIComponent(t)}`).catch(() => null)));
	const spans = [];
	for (const d of docs) if (d) for (const s of d.spans || []) spans.push({ ...s, traj: id(d.id) });
	return spans;
}

/* Per-bucket figures over the window: [{t0, calls, p95}] from one map query per bucket. */
async function overTime(win, pick) {
	const total = BigInt(windowSeconds(win)) * 1000000000n;
	const step = total / BigInt(BUCKETS);
	const end = nowNs();
	const start = end - total;
	const qs = [];
	for (let i = 0; i < BUCKETS; i++) {
		const s = start + step * BigInt(i);
		qs.push(get(`/api/map${query({ since: s.toString(), until: (s + step).toString() })}`).then((doc) => ({ t0: s, ...pick(doc) })));
	}
	return Promise.all(qs);
}

function pickEdges(doc, match) {
	let calls = 0,
		errors = 0,
		p95 = 0;
	for (const e of doc.edges || []) {
		if (!match({ ...e, source: id(e.source), target: id(e.target) })) continue;
		calls += num(e.calls);
		errors += num(e.errors);
		p95 = Math.max(p95, num(e.p95_ms));
	}
	return { calls, errors, p95 };
}

function chart(points, secsPerBucket) {
	const W = 300,
		H = 110,
		pad = 18,
		top = 14;
	const maxC = Math.max(1, ...points.map((p) => p.calls));
	const maxL = Math.max(0.001, ...points.map((p) => p.p95));
	const bw = (W - pad) / points.length;
	const ns = 'http://www.w3.org/2000/svg';
	const svg = document.createElementNS(ns, 'svg');
	svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
	svg.setAttribute('class', 'chart');
	const add = (tag, attrs) => {
		const e = document.createElementNS(ns, tag);
		for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
		svg.append(e);
		return e;
	};
	points.forEach((p, i) => {
		const bh = ((H - pad - top) * p.calls) / maxC;
		const r = add('rect', { x: pad + i * bw + 1, y: H - pad - bh, width: bw - 2, height: bh, class: p.errors ? 'bar err' : 'bar' });
		const t = document.createElementNS(ns, 'title');
		t.textContent = `${count(p.calls)} calls (${rate(p.calls / secsPerBucket)}), p95 ${ms(p.p95)}, ${p.errors} errors`;
		r.append(t);
	});
	const line = points.map((p, i) => `${pad + i * bw + bw / 2},${H - pad - ((H - pad - top) * p.p95) / maxL}`).join(' ');
	add('polyline', { points: line, class: 'p95' });
	add('text', { x: 0, y: 10, class: 'axis' }).textContent = `p95 max ${ms(maxL)}`;
	add('text', { x: W, y: H - 4, class: 'axis', 'text-anchor': 'end' }).textContent = 'now';
	add('text', { x: pad, y: H - 4, class: 'axis' }).textContent = `−${Math.round((secsPerBucket * points.length) / 60)} min`;
	return svg;
}

function section(title, body) {
	return h('section', {}, h('h4', {}, title), body);
}
function table(head, rows) {
	return h('table', { class: 'grid compact' }, h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))), h('tbody', {}, rows));
}

/* Fills slot from an async producer: loading, then content, empty or error. */
async function fill(slot, what, produce, quiet) {
	if (!quiet) slot.replaceChildren(loading(what));
	try {
		slot.replaceChildren(await produce());
	} catch (e) {
		slot.replaceChildren(errorBox(e));
	}
}

function edgeRows(list, m, other) {
	return list.map((e) => {
		const peer = m.byId.get(e[other]);
		return h('tr', { class: `h-${e.health}` },
			h('td', {}, peer ? nodeName(peer) : e[other]), h('td', {}, e.port || ''), h('td', {}, rate(e.rate)),
			h('td', {}, ms(e.p95)), h('td', {}, pct(e.errRate)));
	});
}

export function serviceDetails(side, n, ctx) {
	const procSlot = h('div');
	const chartSlot = h('div');
	const head = h('div');
	side.replaceChildren(
		h('div', { class: 'side-head' }, h('h3', { id: 'detail-title' }, nodeName(n)), h('button', { class: 'close', title: 'close', onclick: () => ctx.select('') }, '×')),
		head,
		section('Latency over time', chartSlot),
		section('Processes and threads', procSlot),
	);
	const render = (c, quiet) => {
		const m = c.m;
		const incoming = m.edges.filter((e) => e.target === n.id);
		const outgoing = m.edges.filter((e) => e.source === n.id);
		head.replaceChildren(
			h('dl', { class: 'kv' },
				h('dt', {}, 'host'), h('dd', {}, n.external ? `external (${n.addr || '?'})` : n.host || '–'),
				h('dt', {}, 'executable'), h('dd', { title: n.exe }, n.exe || '–'),
				h('dt', {}, 'process name'), h('dd', {}, n.comm || '–'),
				h('dt', {}, 'ports'), h('dd', {}, (n.ports || []).join(', ') || 'none (client only)'),
				h('dt', {}, 'instances'), h('dd', { id: 'detail-instances' }, String(num(n.instances) || 1)),
				h('dt', {}, 'application'), h('dd', {}, (m.apps.find((a) => a.id === n.app) || {}).name || n.app)),
			section(`Called by (${incoming.length})`, incoming.length ? table(['caller', 'port', 'rate', 'p95', 'errors'], edgeRows(incoming, m, 'source')) : h('p', { class: 'muted' }, 'No callers in this window: an entry point or a client.')),
			section(`Calls (${outgoing.length})`, outgoing.length ? table(['callee', 'port', 'rate', 'p95', 'errors'], edgeRows(outgoing, m, 'target')) : h('p', { class: 'muted' }, 'Calls nothing that was seen.')),
		);
		const callers = incoming.length > 0;
		fill(chartSlot, 'latency', async () => {
			const pts = await cached(`svc ${n.id} ${c.window}`, 30000, () => overTime(c.window, (doc) => pickEdges(doc, (e) => (callers ? e.target === n.id : e.source === n.id))));
			return h('div', {}, chart(pts, c.secs / BUCKETS), h('p', { class: 'muted small' }, callers ? 'Bars: calls served; line: p95 of the slowest calling edge.' : 'Bars: calls made; line: p95 of the slowest called edge.'));
		}, quiet);
		fill(procSlot, 'processes', async () => {
			const spans = await cached(`spans ${n.app} ${c.window}`, 10000, () => recentSpans(n.app, c.window));
			const procs = new Map();
			for (const s of spans) {
				for (const [side2, svc] of [['server', s.server_service], ['client', s.client_service]]) {
					const p = s[side2];
					if (!p || id(svc) !== n.id) continue;
					const k = `${p.host}/${p.pid}`;
					if (!procs.has(k)) procs.set(k, { host: p.host, pid: p.pid, comm: p.comm, tids: new Set(), ports: new Set(), spans: 0 });
					const x = procs.get(k);
					x.tids.add(p.tid);
					if (side2 === 'server' && p.port) x.ports.add(p.port);
					x.spans++;
				}
			}
			if (!procs.size) return empty('No recent exchanges sampled', 'Processes and threads show up once this service takes part in a trajectory in this window.');
			const rows = [...procs.values()].map((p) => h('tr', {}, h('td', {}, p.host), h('td', {}, p.pid), h('td', {}, p.comm), h('td', { class: 'tids' }, [...p.tids].sort((a, b) => a - b).join(', ')), h('td', {}, [...p.ports].join(', ')), h('td', {}, p.spans)));
			return h('div', {}, table(['host', 'pid', 'comm', 'threads', 'ports', 'spans'], rows), h('p', { class: 'muted small' }, `From the spans of the ${SAMPLE_DETAIL} most recent trajectories of its application.`));
		}, quiet);
	};
	render(ctx, false);
	return { refresh: (c) => render(c, true) };
}

export function edgeDetails(side, e, ctx) {
	const head = h('div');
	const chartSlot = h('div');
	const exSlot = h('div');
	const m0 = ctx.m;
	const src = m0.byId.get(e.source),
		dst = m0.byId.get(e.target);
	side.replaceChildren(
		h('div', { class: 'side-head' }, h('h3', { id: 'detail-title' }, `${nodeName(src)} → ${nodeName(dst)}`), h('button', { class: 'close', title: 'close', onclick: () => ctx.select('') }, '×')),
		head,
		section('Latency over time', chartSlot),
		section('Recent exchanges', exSlot),
	);
	const render = (c, quiet) => {
		const cur = c.m.edges.find((x) => x.key === e.key) || e;
		head.replaceChildren(h('dl', { class: 'kv' },
			h('dt', {}, 'port'), h('dd', {}, cur.port || '–'),
			h('dt', {}, 'calls'), h('dd', {}, `${count(cur.calls)} (${rate(cur.rate)})`),
			h('dt', {}, 'errors'), h('dd', {}, `${count(cur.errors)} (${pct(cur.errRate)})`),
			h('dt', {}, 'latency'), h('dd', {}, `p50 ${ms(num(cur.p50_ms))} · p95 ${ms(num(cur.p95_ms))} · p99 ${ms(num(cur.p99_ms))}`),
			h('dt', {}, 'bytes'), h('dd', {}, bytes(cur.bytes))));
		fill(chartSlot, 'latency', async () => {
			const pts = await cached(`edge ${e.key} ${c.window}`, 30000, () => overTime(c.window, (doc) => pickEdges(doc, (x) => x.source === e.source && x.target === e.target && num(x.port) === num(e.port))));
			return chart(pts, c.secs / BUCKETS);
		}, quiet);
		fill(exSlot, 'exchanges', async () => {
			const spans = (await cached(`spans ${src.app} ${c.window}`, 10000, () => recentSpans(src.app, c.window))).filter((s) => id(s.client_service) === e.source && id(s.server_service) === e.target);
			spans.sort((a, b) => (BigInt(b.start_ns || 0) > BigInt(a.start_ns || 0) ? 1 : -1));
			if (!spans.length) return empty('No recent exchanges sampled', 'Exchanges on this edge appear once they are part of a recent trajectory.');
			return table(['time', 'request', 'status', 'duration', ''], spans.slice(0, 20).map((s) => h('tr', { class: s.error ? 'h-bad' : '' },
				h('td', {}, clock(s.start_ns)), h('td', { class: 'req' }, s.request || s.protocol || '–'),
				h('td', {}, s.error ? s.error_text || 'error' : s.status || ''), h('td', {}, s.end_ns && s.start_ns ? dur(Number(BigInt(s.end_ns) - BigInt(s.start_ns))) : '–'),
				h('td', {}, h('a', { href: `#/trajectories/${encodeURIComponent(s.traj)}` }, 'trajectory')))));
		}, quiet);
	};
	render(ctx, false);
	return { refresh: (c) => render(c, true) };
}
