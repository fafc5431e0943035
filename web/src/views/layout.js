// Lays out the map: each application (a connected component of services)
// is its own graph, ranked left to right by dagre; the application boxes
// are then packed in rows, largest first. Large maps are laid out in two
// workers (one application at a time, in parallel), and every application's
// layout is kept by its shape, so a refresh or a reload that finds the same
// services and edges in an application reuses it.
import { layoutOne, NODE_W } from './dagre_layout.js';

export { NODE_W, NODE_H } from './dagre_layout.js';
const APP_PAD = 18;
const APP_TITLE = 26;
const APP_GAP = 50;
const CACHE_KEY = 'weft-layout-v3';
const CACHE_MAX = 400; // applications remembered

function hashStr(s) {
	let h1 = 0x811c9dc5,
		h2 = 0x1234567;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		h1 = Math.imul(h1 ^ c, 16777619);
		h2 = Math.imul(h2 ^ c, 2246822519);
	}
	return (h1 >>> 0).toString(36) + (h2 >>> 0).toString(36);
}

const memory = new Map();
function cacheGet(key) {
	if (memory.has(key)) return memory.get(key);
	try {
		const all = JSON.parse(localStorage.getItem(CACHE_KEY) || '{}');
		if (all[key]) memory.set(key, all[key]);
		return all[key];
	} catch {
		return undefined;
	}
}
function cachePut(entries) {
	for (const [k, v] of entries) memory.set(k, v);
	try {
		const all = JSON.parse(localStorage.getItem(CACHE_KEY) || '{}');
		for (const [k, v] of entries) all[k] = { ...v, t: Date.now() };
		const keys = Object.keys(all);
		if (keys.length > CACHE_MAX) keys.sort((a, b) => all[a].t - all[b].t).slice(0, keys.length - CACHE_MAX).forEach((k) => delete all[k]);
		localStorage.setItem(CACHE_KEY, JSON.stringify(all));
	} catch {
		/* storage full or disabled: layouts are recomputed */
	}
}

let workers = null;
function pool() {
	if (!workers) {
		const n = Math.max(1, Math.min(2, navigator.hardwareConcurrency || 2));
		workers = Array.from({ length: n }, () => new Worker(new URL('./layout.worker.js', import.meta.url), { type: 'module' }));
	}
	return workers;
}
/* Workers start while the map's data is on its way. */
export function warmUp() {
	if (typeof Worker !== 'undefined') pool();
}
function runInWorker(w, jobs) {
	return new Promise((resolve, reject) => {
		w.onmessage = (ev) => resolve(ev.data);
		w.onerror = (ev) => reject(new Error(ev.message || 'layout worker failed'));
		w.postMessage(jobs);
	});
}

async function layoutJobs(jobs, parallel) {
	if (!parallel || jobs.length < 2 || typeof Worker === 'undefined') return jobs.map(layoutOne);
	// Largest first onto the least loaded worker.
	const ws = pool();
	const bins = ws.map(() => ({ jobs: [], idx: [], load: 0 }));
	jobs.map((j, i) => [j, i]).sort((a, b) => b[0].edges.length + b[0].nodes.length - (a[0].edges.length + a[0].nodes.length))
		.forEach(([j, i]) => {
			const b = bins.reduce((x, y) => (y.load < x.load ? y : x));
			b.jobs.push(j);
			b.idx.push(i);
			b.load += j.nodes.length + 2 * j.edges.length;
		});
	const out = new Array(jobs.length);
	try {
		await Promise.all(bins.map(async (b, k) => {
			if (!b.jobs.length) return;
			const res = await runInWorker(ws[k], b.jobs);
			res.forEach((r, n) => (out[b.idx[n]] = r));
		}));
	} catch {
		return jobs.map(layoutOne);
	}
	return out;
}

/* apps: [{id, services:[nodeId]}], edges: [{source,target}] with string ids.
 * maxWidth bounds a row of boxes, aspect is the viewport's width / height.
 * Resolves to {pos: Map id -> {x,y}, routes: Map "s t" -> [[x,y]], boxes: [{id,x,y,w,h}]}. */
export async function layoutApplications(apps, edges, maxWidth, aspect = 1.6) {
	const total = apps.reduce((k, a) => k + a.services.length, 0);
	const ranksep = total <= 60 ? 210 : 120;
	const appOf = new Map();
	for (const a of apps) for (const s of a.services) appOf.set(s, a.id);
	const byApp = new Map(apps.map((a) => [a.id, new Set()]));
	for (const e of edges) {
		const a = appOf.get(e.source);
		if (a !== undefined && a === appOf.get(e.target)) byApp.get(a).add(`${e.source} ${e.target}`);
	}
	const jobs = apps.map((a) => {
		const nodes = [...a.services].sort();
		const es = [...byApp.get(a.id)].sort();
		return { nodes, edges: es.map((k) => k.split(' ')), ranksep, key: hashStr(`${ranksep}|${nodes.join(',')}|${es.join(',')}`) };
	});
	const results = jobs.map((j) => cacheGet(j.key));
	const todo = jobs.map((j, i) => [j, i]).filter(([, i]) => !results[i]);
	if (todo.length) {
		const fresh = await layoutJobs(todo.map(([j]) => j), total > 60);
		todo.forEach(([, i], k) => (results[i] = fresh[k]));
		cachePut(todo.map(([j], k) => [j.key, fresh[k]]));
	}
	// Pack the boxes in rows, largest first.
	const order = apps.map((a, i) => i).sort((x, y) => results[y].width * results[y].height - results[x].width * results[x].height);
	// Rows about as wide as the viewport's shape asks for the whole area to fill it.
	const area = results.reduce((k, r) => k + (r.width + 2 * APP_PAD + APP_GAP) * (r.height + 2 * APP_PAD + APP_TITLE + APP_GAP), 0);
	const rowWidth = Math.max(Math.min(maxWidth, Math.sqrt(area * aspect) * 1.1), ...results.map((r) => r.width + 2 * APP_PAD));
	const pos = new Map();
	const routes = new Map();
	const boxes = [];
	let x = 0,
		y = 0,
		rowH = 0;
	for (const i of order) {
		const r = results[i];
		const w = r.width + 2 * APP_PAD,
			hgt = r.height + 2 * APP_PAD + APP_TITLE;
		if (x > 0 && x + w > rowWidth) {
			x = 0;
			y += rowH + APP_GAP;
			rowH = 0;
		}
		const ox = x + APP_PAD,
			oy = y + APP_PAD + APP_TITLE;
		for (const [n, p] of Object.entries(r.pos)) pos.set(n, { x: ox + p[0], y: oy + p[1] });
		for (const [k, pts] of Object.entries(r.routes)) routes.set(k, pts.map((p) => [ox + p[0], oy + p[1]]));
		boxes.push({ id: apps[i].id, x, y, w, h: hgt });
		x += w + APP_GAP;
		rowH = Math.max(rowH, hgt);
	}
	return { pos, routes, boxes };
}
