// The dependency map: every application its own graph (dagre, left to
// right, drawn as SVG), services with their instance count, edges with request rate, p95
// latency and error rate, coloured by health. Clicking a service or an edge
// opens its details on the side. Live refresh updates labels and colours in
// place and keeps zoom, pan and selection; only a changed set of services or
// edges lays the graph out again.
import { get, query, id, num } from '../api.js';
import { h, ms, rate, pct, count, health, HEALTH_COLOR, loading, empty, errorBox, code, basename } from '../format.js';
import { layoutApplications, warmUp } from './layout.js';
import { MapGraph } from './graph.js';
import { serviceDetails, edgeDetails } from './map_details.js';

export const WINDOWS = [
	['5m', 'last 5 min'],
	['15m', 'last 15 min'],
	['1h', 'last hour'],
	['6h', 'last 6 hours'],
	['24h', 'last 24 hours'],
	['7d', 'last 7 days'],
];
const WINDOW_S = { m: 60, h: 3600, d: 86400, s: 1 };
export const windowSeconds = (w) => {
	const m = /^(\d+)([smhd])$/.exec(w || '15m');
	return m ? Number(m[1]) * WINDOW_S[m[2]] : 900;
};

/* Derived values for one map document; ids as strings. */
function model(doc, windowS) {
	const nodes = (doc.nodes || []).map((n) => ({ ...n, id: id(n.id), application: id(n.application) }));
	const byId = new Map(nodes.map((n) => [n.id, n]));
	const span = doc.since_ns && doc.until_ns ? (Number(doc.until_ns) - Number(doc.since_ns)) / 1e9 : windowS;
	const secs = span > 0 && span < windowS * 1.5 ? span : windowS;
	const edges = (doc.edges || []).map((e, i) => {
		const calls = num(e.calls),
			errors = num(e.errors);
		const x = { ...e, source: id(e.source), target: id(e.target), calls, errors };
		x.rate = calls / secs;
		x.errRate = calls ? errors / calls : 0;
		x.p95 = num(e.p95_ms);
		x.health = health(x.errRate, x.p95);
		x.key = `e:${x.source}>${x.target}:${e.port || 0}:${i}`;
		return x;
	}).filter((e) => byId.has(e.source) && byId.has(e.target));
	let apps = (doc.applications || []).map((a) => ({ ...a, id: id(a.id), services: (a.services || []).map(id).filter((s) => byId.has(s)) }));
	// Services the server left out of every application still get drawn, each on its own.
	const inApp = new Set(apps.flatMap((a) => a.services));
	for (const n of nodes) if (!inApp.has(n.id)) apps.push({ id: `solo-${n.id}`, name: nodeName(n), services: [n.id] });
	for (const a of apps) for (const s of a.services) byId.get(s).app = a.id;
	const rank = { idle: 0, ok: 1, warn: 2, bad: 3 };
	for (const n of nodes) n.health = 'idle';
	for (const e of edges) {
		const t = byId.get(e.target);
		if (rank[e.health] > rank[t.health]) t.health = e.health;
	}
	return { nodes, byId, edges, apps, secs };
}

export function nodeName(n) {
	if (n.name) return n.name;
	if (n.comm) return n.comm;
	if (n.exe) return basename(n.exe);
	if (n.addr) return n.addr;
	return n.id;
}
function nodeLabel(n) {
	const where = n.external ? 'external' : n.host || '';
	const port = n.ports && n.ports.length ? `:${n.ports.join(',')}` : '';
	const k = Math.max(1, num(n.instances));
	return `${nodeName(n)}\n${where}${port} · ${k} inst.`;
}
function edgeLabel(e) {
	return `${rate(e.rate)} · p95 ${ms(e.p95)} · ${pct(e.errRate)} err`;
}
function edgeWidth(e) {
	return Math.min(8, 1.5 + Math.log10(1 + e.rate * 10));
}

function items(m, shownApps, lay) {
	const out = { boxes: [], nodes: [], edges: [], big: shownApps.reduce((k, a) => k + a.services.length, 0) > 120 };
	const shown = new Set();
	for (const b of lay ? lay.boxes : []) {
		const a = shownApps.find((x) => x.id === b.id);
		out.boxes.push({ ...b, label: `${a.name || a.id} · ${a.services.length} services` });
	}
	for (const a of shownApps) {
		for (const s of a.services) {
			const n = m.byId.get(s);
			const p = lay ? lay.pos.get(s) : { x: 0, y: 0 };
			shown.add(s);
			out.nodes.push({ id: n.id, x: p.x, y: p.y, lines: nodeLabel(n).split('\n'), health: n.health, external: n.external });
		}
	}
	for (const e of m.edges) {
		if (!shown.has(e.source) || !shown.has(e.target)) continue;
		let points = lay && lay.routes.get(`${e.source} ${e.target}`);
		if (!points && lay) {
			const p = lay.pos.get(e.source),
				q = lay.pos.get(e.target);
			points = [[p.x, p.y], [q.x, q.y]];
		}
		out.edges.push({ key: e.key, source: e.source, target: e.target, points: points || [], label: edgeLabel(e), health: e.health, width: edgeWidth(e) });
	}
	return out;
}

const shapeKey = (m, appFilter) =>
	`${appFilter}|${m.nodes.map((n) => `${n.id}@${n.app}`).sort().join(',')}|${m.edges.map((e) => e.key).sort().join(',')}`;

export function mount(el, { params, setParams }) {
	const state = { window: params.window || '15m', app: params.app || '', sel: params.sel || '', m: null, shape: '' };
	let graph = null;
	let gen = 0;
	let drawing = 0;

	const windowSel = h('select', { id: 'map-window', 'aria-label': 'time window', onchange: () => { state.window = windowSel.value; save(); load(true); } },
		WINDOWS.map(([v, t]) => h('option', { value: v, selected: v === state.window }, t)));
	const appSel = h('select', { id: 'map-app', 'aria-label': 'application', onchange: () => { state.app = appSel.value; save(); draw(true); } });
	const summary = h('span', { class: 'muted', id: 'map-summary' });
	const legend = h('span', { class: 'legend' },
		['ok', 'warn', 'bad', 'idle'].map((k) => h('span', {}, h('i', { style: { background: HEALTH_COLOR[k] } }), { ok: 'healthy', warn: 'errors or p95 ≥ 250 ms', bad: '≥ 5% errors or p95 ≥ 1 s', idle: 'no callers' }[k])));
	const fitBtn = h('button', { onclick: () => graph && graph.fit() }, 'Fit');
	const graphEl = h('div', { class: 'graph', id: 'map-graph' });
	const status = h('div', { class: 'graph-status' }, loading('the map'));
	const side = h('aside', { class: 'side', id: 'map-side' });
	el.append(
		h('div', { class: 'toolbar' }, h('h2', {}, 'Map'), windowSel, appSel, fitBtn, summary, h('span', { class: 'spacer' }), legend),
		h('div', { class: 'map-body' }, h('div', { class: 'graph-wrap' }, graphEl, status), side),
	);
	side.hidden = true;

	function save() {
		setParams({ window: state.window, app: state.app, sel: state.sel });
	}

	async function load(userAction) {
		const my = ++gen;
		if (userAction) {
			status.hidden = false;
			status.replaceChildren(loading('the map'));
		}
		if (userAction) warmUp();
		const doc = await get(`/api/map${query({ window: state.window })}`);
		if (my !== gen) return;
		performance.mark('weft-map-fetched');
		state.m = model(doc, windowSeconds(state.window));
		await draw(false);
	}

	function fillApps() {
		const opts = [h('option', { value: '' }, `All applications (${state.m.apps.length})`)];
		for (const a of state.m.apps) opts.push(h('option', { value: a.id, selected: a.id === state.app }, `${a.name || a.id} (${a.services.length})`));
		appSel.replaceChildren(...opts);
		if (state.app && !state.m.apps.some((a) => a.id === state.app)) state.app = '';
		appSel.value = state.app;
	}

	async function draw(relayout) {
		const m = state.m;
		const my = ++drawing;
		fillApps();
		const shownApps = state.app ? m.apps.filter((a) => a.id === state.app) : m.apps;
		const nSvc = shownApps.reduce((k, a) => k + a.services.length, 0);
		const total = m.edges.reduce((k, e) => k + e.calls, 0);
		summary.textContent = `${nSvc} services · ${m.edges.length} edges · ${count(total)} calls`;
		if (!m.nodes.length) {
			if (graph) { graph.destroy(); graph = null; }
			state.shape = '';
			status.replaceChildren(empty('No traffic in this window',
				'Services appear here once a sensor has seen them talk. Check the Sensors page for a connected sensor, widen the time window, or start one on each host:',
				code('sudo weft sensor --server SERVER:7071 --host NAME')));
			status.hidden = false;
			el.dataset.ready = '1';
			return;
		}
		const shape = shapeKey(m, state.app);
		if (graph && shape === state.shape && !relayout) {
			graph.update(items(m, shownApps, null));
			if (state.sel) showDetails(state.sel, true);
			return;
		}
		const t0 = performance.now();
		const width = Math.max(800, graphEl.clientWidth || 1000);
		const aspect = width / Math.max(400, graphEl.clientHeight || 600);
		const lay = await layoutApplications(shownApps, m.edges, 1e6, aspect);
		if (my !== drawing) return;
		const t1 = performance.now();
		const keep = !!graph && !relayout;
		if (!graph) graph = new MapGraph(graphEl, { onSelect: (id) => select(id) });
		graph.svg.classList.toggle('big', nSvc > 120);
		graph.draw(items(m, shownApps, lay), keep);
		state.shape = shape;
		status.hidden = true;
		performance.mark('weft-map-drawn');
		el.dataset.layoutMs = (t1 - t0).toFixed(1);
		window.weftMap = api;
		if (state.sel) select(state.sel, true);
		// Interactive once the browser has painted the drawing.
		requestAnimationFrame(() => setTimeout(() => {
			performance.mark('weft-map-interactive');
			el.dataset.ready = '1';
		}));
	}

	function select(sel, quiet) {
		if (!graph) return;
		if (sel && !state.m.byId.has(sel) && !state.m.edges.some((e) => e.key === sel)) sel = '';
		state.sel = sel;
		save();
		graph.select(sel);
		if (!sel) {
			side.hidden = true;
			side.replaceChildren();
			detail = null;
			return;
		}
		if (!quiet) side.scrollTop = 0;
		showDetails(sel, false);
	}

	let detail = null; // the open details panel: { key, refresh }
	function showDetails(sel, refreshing) {
		const m = state.m;
		const ctx = { m, window: state.window, secs: m.secs, select };
		if (refreshing && detail && detail.key === sel) return detail.refresh(ctx);
		side.hidden = false;
		const n = m.byId.get(sel);
		const e = n ? null : m.edges.find((x) => x.key === sel);
		if (!n && !e) return;
		detail = n ? serviceDetails(side, n, ctx) : edgeDetails(side, e, ctx);
		detail.key = sel;
	}

	const api = {
		/* The page position of a service or an edge, for tests that click it. */
		clientPoint: (eid) => graph && graph.clientPoint(eid),
		nodes: () => state.m.nodes.map((n) => ({ id: n.id, name: nodeName(n), host: n.host, ports: n.ports, app: n.app })),
		edges: () => state.m.edges.map((e) => ({ key: e.key, source: e.source, target: e.target, calls: e.calls })),
		focus: (eid) => graph && graph.center(eid),
	};

	const first = load(true).catch((e) => { status.hidden = false; status.replaceChildren(errorBox(e)); el.dataset.ready = 'error'; });

	return {
		refresh: () => load(false),
		update(p) {
			if ((p.window || '15m') !== state.window || (p.app || '') !== state.app) {
				state.window = p.window || '15m';
				state.app = p.app || '';
				windowSel.value = state.window;
				load(true).catch((e) => status.replaceChildren(errorBox(e)));
			}
		},
		unmount() {
			gen++;
			drawing++;
			if (graph) graph.destroy();
			if (window.weftMap === api) delete window.weftMap;
		},
		first,
	};
}
