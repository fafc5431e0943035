// The dashboard's shell: hash routes, the live-refresh clock, and the rule
// that a view always shows something (loading, empty with the next step, or
// the error) and never a blank page.
import './style.css';
import { h, errorBox } from './format.js';
import * as mapView from './views/map.js';
import * as trajListView from './views/trajectories.js';
import * as trajView from './views/trajectory.js';
import * as sensorsView from './views/sensors.js';

const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh')) || 5000;

const routes = [
	{ re: /^\/map$/, nav: 'map', view: mapView },
	{ re: /^\/trajectories$/, nav: 'trajectories', view: trajListView },
	{ re: /^\/trajectories\/([0-9a-zA-Z_-]+)$/, nav: 'trajectories', view: trajView },
	{ re: /^\/sensors$/, nav: 'sensors', view: sensorsView },
];

/* "#/path?a=1" -> { path, params } */
export function parseHash() {
	const raw = location.hash.replace(/^#/, '') || '/map';
	const [path, qs] = raw.split('?');
	return { path, params: Object.fromEntries(new URLSearchParams(qs || '')) };
}

/* Rewrites the current route's query without a reload or a new history
 * entry: views keep their state (filters, selection, page) in the address
 * so a reload or a shared link lands in the same place. */
export function setParams(params, { push = false } = {}) {
	const { path } = parseHash();
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
	const s = q.toString();
	const url = `#${path}${s ? `?${s}` : ''}`;
	if (push) history.pushState(null, '', url);
	else history.replaceState(null, '', url);
}

let current = null; // { key, view, instance }
const viewEl = document.getElementById('view');
const liveBox = document.getElementById('live');
const liveStatus = document.getElementById('live-status');

function route() {
	const { path, params } = parseHash();
	const r = routes.find((x) => x.re.test(path));
	document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', r && a.dataset.nav === r.nav));
	if (!r) {
		location.hash = '#/map';
		return;
	}
	const m = path.match(r.re);
	const key = path;
	if (current && current.key === key && current.instance.update) {
		current.instance.update(params);
		return;
	}
	if (current && current.instance.unmount) current.instance.unmount();
	// Each mount gets its own element: a late answer to a view that is gone
	// lands on a detached node, never on its successor.
	const page = h('div', { class: 'page', dataset: { view: r.nav } });
	viewEl.replaceChildren(page);
	try {
		const instance = r.view.mount(page, { params, arg: m[1], setParams }) || {};
		current = { key, instance };
	} catch (e) {
		viewEl.replaceChildren(errorBox(e));
		current = null;
	}
}

/* ---- live refresh: poll the current view while the page is visible ---------------------- */

let inFlight = false;
async function tick() {
	if (!liveBox.checked || document.hidden || inFlight || !current || !current.instance.refresh) return;
	inFlight = true;
	try {
		await current.instance.refresh();
		liveStatus.textContent = `updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
		liveStatus.classList.remove('bad');
	} catch (e) {
		liveStatus.textContent = 'refresh failed';
		liveStatus.classList.add('bad');
	} finally {
		inFlight = false;
	}
}
setInterval(tick, REFRESH_MS);
liveBox.addEventListener('change', () => {
	liveStatus.textContent = liveBox.checked ? '' : 'paused';
	if (liveBox.checked) tick();
});
document.addEventListener('visibilitychange', () => document.hidden || tick());

window.addEventListener('hashchange', route);
window.addEventListener('popstate', route);
window.addEventListener('error', (e) => showBanner(e.message));
window.addEventListener('unhandledrejection', (e) => showBanner(e.reason && e.reason.message ? e.reason.message : String(e.reason)));

function showBanner(msg) {
	const b = document.getElementById('banner');
	b.replaceChildren(h('span', {}, `Something went wrong: ${msg}`), h('button', { onclick: () => (b.hidden = true) }, 'dismiss'));
	b.hidden = false;
}

route();
