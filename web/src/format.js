// Formatting and small DOM functions shared by the views.

export function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') el.className = v;
		else if (k === 'dataset') Object.assign(el.dataset, v);
		else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
		else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else if (k in el && typeof v !== 'string') el[k] = v;
		else el.setAttribute(k, v === true ? '' : v);
	}
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

export function ms(v) {
	const x = Number(v);
	if (!Number.isFinite(x)) return '–';
	if (x >= 10000) return `${(x / 1000).toFixed(1)} s`;
	if (x >= 100) return `${x.toFixed(0)} ms`;
	if (x >= 10) return `${x.toFixed(1)} ms`;
	if (x >= 1) return `${x.toFixed(2)} ms`;
	return `${(x * 1000).toFixed(0)} µs`;
}
export const nsToMs = (ns) => Number(ns) / 1e6;
export const dur = (ns) => ms(nsToMs(ns));

export function count(v) {
	const x = Number(v) || 0;
	if (x >= 1e9) return `${(x / 1e9).toFixed(1)}G`;
	if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
	if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
	return String(Math.round(x));
}
export function rate(perSec) {
	const x = Number(perSec) || 0;
	if (x >= 100) return `${x.toFixed(0)}/s`;
	if (x >= 1) return `${x.toFixed(1)}/s`;
	if (x > 0) return `${(x * 60).toFixed(1)}/min`;
	return '0/s';
}
export const pct = (x) => `${(100 * (Number(x) || 0)).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;
export function bytes(v) {
	const x = Number(v) || 0;
	if (x >= 1 << 30) return `${(x / (1 << 30)).toFixed(1)} GiB`;
	if (x >= 1 << 20) return `${(x / (1 << 20)).toFixed(1)} MiB`;
	if (x >= 1 << 10) return `${(x / (1 << 10)).toFixed(1)} KiB`;
	return `${x} B`;
}
/* Wall-clock ns (string or number) as local time of day, with the date when not today. */
export function clock(ns) {
	const d = new Date(Number(BigInt(ns || 0) / 1000000n));
	const t = d.toLocaleTimeString([], { hour12: false });
	const ms3 = String(d.getMilliseconds()).padStart(3, '0');
	const today = new Date().toDateString() === d.toDateString();
	return today ? `${t}.${ms3}` : `${d.toLocaleDateString()} ${t}`;
}
export function ago(ns) {
	const s = (Date.now() - Number(BigInt(ns || 0) / 1000000n)) / 1000;
	if (!Number(ns)) return 'never';
	if (s < 2) return 'just now';
	if (s < 90) return `${Math.round(s)} s ago`;
	if (s < 5400) return `${Math.round(s / 60)} min ago`;
	if (s < 172800) return `${Math.round(s / 3600)} h ago`;
	return `${Math.round(s / 86400)} days ago`;
}

/* Health from error rate and latency: ok, warn, bad. */
export function health(errRate, p95) {
	if (errRate >= 0.05 || p95 >= 1000) return 'bad';
	if (errRate > 0 || p95 >= 250) return 'warn';
	return 'ok';
}
export const HEALTH_COLOR = { ok: '#2f9e44', warn: '#e8a317', bad: '#d9480f', idle: '#868e96' };

export function basename(p) {
	if (!p) return '';
	const i = p.lastIndexOf('/');
	return i >= 0 ? p.slice(i + 1) : p;
}

/* Empty, loading and error states: always something on the page. */
export const loading = (what) => h('p', { class: 'loading' }, `Loading ${what}…`);
export const empty = (title, ...next) =>
	h('div', { class: 'empty' }, h('h3', {}, title), ...next.map((n) => h('p', {}, n)));
export const errorBox = (err) =>
	h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'Error: '), String(err && err.message ? err.message : err));
export const code = (s) => h('code', {}, s);
