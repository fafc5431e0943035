// Trajectories: a list filtered and paged on the server (application, entry
// request, latency range, errors only, time window), newest first. Paging
// pins the end of the window so later pages stay put while traffic flows;
// page one follows live traffic. Older pages follow the server's cursor
// ("next"), which costs the same however deep; offsets are the fallback
// (a reloaded page deep in the list, a server without cursors).
import { get, query, id, num, nowNs } from '../api.js';
import { h, dur, clock, count, loading, empty, errorBox, code, basename } from '../format.js';
import { WINDOWS, windowSeconds } from './map.js';

const PAGE = 50;
const WIN_ALL = [...WINDOWS, ['all', 'all time']];

export function mount(el, { params, setParams }) {
	const f = {
		window: params.window || '1h',
		app: params.app || '',
		request: params.request || '',
		min_ms: params.min_ms || '',
		max_ms: params.max_ms || '',
		errors: params.errors === '1',
		page: Math.max(0, Number(params.page) || 0),
		until: params.until || '', // pinned window end (ns) while paging
		before: params.before || '', // the cursor this page starts after
	};
	const behind = []; // the cursors of the pages before this one, as visited
	let gen = 0;
	let last = null;

	const win = h('select', { name: 'window', 'aria-label': 'time window' }, WIN_ALL.map(([v, t]) => h('option', { value: v, selected: v === f.window }, t)));
	const app = h('select', { name: 'app', id: 'traj-app', 'aria-label': 'application' }, h('option', { value: '' }, 'all applications'));
	const req = h('input', { name: 'request', id: 'traj-request', placeholder: 'entry request contains…', value: f.request, size: 24 });
	const minMs = h('input', { name: 'min_ms', type: 'number', min: 0, step: 'any', placeholder: 'min ms', value: f.min_ms, class: 'num' });
	const maxMs = h('input', { name: 'max_ms', type: 'number', min: 0, step: 'any', placeholder: 'max ms', value: f.max_ms, class: 'num' });
	const errs = h('input', { type: 'checkbox', name: 'errors', id: 'traj-errors', checked: f.errors });
	const form = h('form', { class: 'filters', id: 'traj-filters', onsubmit: (ev) => { ev.preventDefault(); apply(); } },
		win, app, req, h('span', { class: 'range' }, minMs, '–', maxMs),
		h('label', {}, errs, ' errors only'),
		h('button', { type: 'submit' }, 'Apply'),
		h('button', { type: 'button', onclick: reset }, 'Reset'));
	for (const c of [win, app, errs]) c.addEventListener('change', apply);
	const info = h('span', { class: 'muted', id: 'traj-info' });
	const pinned = h('span', { class: 'pinned' });
	const prev = h('button', { id: 'traj-prev', onclick: () => go(f.page - 1) }, '← Newer');
	const next = h('button', { id: 'traj-next', onclick: () => go(f.page + 1) }, 'Older →');
	const body = h('div', { id: 'traj-list' }, loading('trajectories'));
	el.append(h('div', { class: 'toolbar' }, h('h2', {}, 'Trajectories'), form), body, h('div', { class: 'pager' }, prev, info, pinned, next));

	function save() {
		setParams({ window: f.window, app: f.app, request: f.request, min_ms: f.min_ms, max_ms: f.max_ms, errors: f.errors ? '1' : '', page: f.page || '', until: f.until, before: f.before });
	}
	function apply() {
		Object.assign(f, { window: win.value, app: app.value, request: req.value.trim(), min_ms: minMs.value, max_ms: maxMs.value, errors: errs.checked, page: 0, until: '', before: '' });
		behind.length = 0;
		save();
		load(true);
	}
	function reset() {
		Object.assign(f, { window: '1h', app: '', request: '', min_ms: '', max_ms: '', errors: false, page: 0, until: '', before: '' });
		behind.length = 0;
		win.value = '1h';
		app.value = '';
		req.value = minMs.value = maxMs.value = '';
		errs.checked = false;
		save();
		load(true);
	}
	function go(page) {
		if (page < 0) return;
		if (page > 0 && !f.until && last) f.until = last.until;
		if (page === 0) f.until = '';
		if (page === f.page + 1 && last && last.doc.next) {
			behind.push(f.before);
			f.before = String(last.doc.next);
		} else if (page === f.page - 1 && behind.length) {
			f.before = behind.pop();
		} else {
			f.before = '';
			behind.length = 0;
		}
		f.page = page;
		save();
		load(true);
	}

	async function loadApps() {
		try {
			const doc = await get(`/api/map${query({ window: f.window === 'all' ? '7d' : f.window })}`);
			const apps = doc.applications || [];
			app.replaceChildren(h('option', { value: '' }, 'all applications'), ...apps.map((a) => h('option', { value: id(a.id), selected: id(a.id) === f.app }, `${a.name || a.id} (${(a.services || []).length} services)`)));
			if (f.app && !apps.some((a) => id(a.id) === f.app)) app.append(h('option', { value: f.app, selected: true }, f.app));
		} catch {
			/* the list still works without names */
		}
	}

	async function load(userAction) {
		const my = ++gen;
		if (userAction) body.replaceChildren(loading('trajectories'));
		const now = nowNs();
		const until = f.until ? BigInt(f.until) : 0n;
		const since = f.window === 'all' ? 0n : (until || now) - BigInt(windowSeconds(f.window)) * 1000000000n;
		const q = {
			limit: PAGE,
			offset: f.before ? undefined : f.page * PAGE,
			before: f.before || undefined,
			since: since ? since.toString() : undefined,
			until: until ? until.toString() : undefined,
			min_ms: f.min_ms === '' ? undefined : f.min_ms,
			max_ms: f.max_ms === '' ? undefined : f.max_ms,
			application: f.app,
			request: f.request,
			errors: f.errors,
		};
		const t0 = performance.now();
		const doc = await get(`/api/trajectories${query(q)}`);
		if (my !== gen) return;
		last = { doc, until: (until || now).toString(), ms: performance.now() - t0 };
		render();
	}

	function render() {
		const { doc } = last;
		const rows = doc.trajectories || [];
		const total = num(doc.total);
		const capped = doc.total_capped || false;
		el.dataset.ready = '1';
		el.dataset.total = String(total);
		const from = f.page * PAGE;
		info.textContent = rows.length ? `${from + 1}–${from + rows.length} of ${count(total)}${capped ? '+' : ''} · ${last.ms.toFixed(0)} ms` : '';
		prev.disabled = f.page === 0;
		next.disabled = from + rows.length >= total && !capped;
		pinned.replaceChildren(...(f.until ? [' · paused at ', clock(f.until), ' ', h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); go(0); } }, 'back to newest')] : []));
		if (!rows.length) {
			const filtered = f.app || f.request || f.min_ms || f.max_ms || f.errors;
			body.replaceChildren(filtered
				? empty('No trajectory matches these filters', 'Widen the time window or the latency range, or press Reset.')
				: empty('No trajectories in this window', 'Trajectories appear when requests cross services that a sensor watches. Check the Sensors page, or start a sensor on each host:', code('sudo weft sensor --server SERVER:7071 --host NAME')));
			return;
		}
		const maxDur = Math.max(1, ...rows.map((t) => num(t.duration_ns)));
		const back = location.hash;
		body.replaceChildren(h('table', { class: 'grid trajs' },
			h('thead', {}, h('tr', {}, ['start', 'entry request', 'service', 'duration', 'spans', 'depth', ''].map((c) => h('th', {}, c)))),
			h('tbody', {}, rows.map((t) => {
				const tid = id(t.id);
				const r = t.root || {};
				const href = `#/trajectories/${encodeURIComponent(tid)}`;
				return h('tr', { class: t.error ? 'h-bad link' : 'link', dataset: { id: tid }, onclick: (ev) => { if (ev.target.tagName !== 'A') { sessionStorage.setItem('weft-back', back); location.hash = href; } } },
					h('td', { class: 'nowrap' }, clock(t.start_ns)),
					h('td', { class: 'req' }, h('a', { href, onclick: () => sessionStorage.setItem('weft-back', back) }, r.request || '(no request parsed)')),
					h('td', {}, r.comm || basename(r.exe) || '', h('span', { class: 'muted' }, r.host ? ` @${r.host}` : '')),
					h('td', { class: 'dur' }, h('span', { class: 'durbar', style: { width: `${(100 * num(t.duration_ns)) / maxDur}%` } }), h('span', {}, dur(t.duration_ns))),
					h('td', {}, num(t.spans)), h('td', {}, num(t.depth)),
					h('td', {}, t.error ? h('span', { class: 'badge bad' }, 'error') : '', t.uncertain ? h('span', { class: 'badge warn', title: 'a link to a parent could not be decided exactly' }, 'uncertain') : ''));
			}))));
	}

	loadApps();
	load(true).catch((e) => body.replaceChildren(errorBox(e)));
	return {
		refresh: async () => {
			if (f.until) return; // a pinned page stays put
			await Promise.all([load(false), loadApps()]);
		},
	};
}
