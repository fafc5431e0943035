// One trajectory as a waterfall: a bar per span, nested under its parent,
// with the client's wait, the network and the server's time apart. Server
// times are placed on the root's timeline with the span's display offset; a
// span's client-side times use its parent's offset (the client runs where
// the parent's server ran). The slowest span and hop are highlighted as the
// first answer to "where did the time go".
import { get, id, num, big } from '../api.js';
import { h, dur, clock, bytes, loading, empty, errorBox } from '../format.js';

/* Spans in tree order (depth-first, children by start), each with depth and
 * its times on the root's timeline in ns relative to t0 (Numbers, exact). */
// How a span's parent was decided (docs/architecture.md, "Correlation").
const LINKS = {
	thread: 'the sending thread had received this request, its only open one',
	adjacent: 'the request behind the last message the sending thread received',
	connect: 'the first request on a connection opened while working for this request',
	forward: 'a proxy forwarded it: same request line, trace id or request id',
	response: 'the sending thread then answered this request itself',
	wakeup: 'a goroutine working for this request handed the work on',
	message: 'a delivery of this published message, through the broker',
	guess: 'chosen among several candidates',
	undecided: 'no evidence for any parent',
	method: 'a method call inside the span above',
};

export function arrange(doc) {
	const spans = (doc.spans || []).map((s) => ({ ...s, id: id(s.id), parent: id(s.parent) }));
	const byId = new Map(spans.map((s) => [s.id, s]));
	const kids = new Map();
	const roots = [];
	for (const s of spans) {
		if (s.parent && s.parent !== '0' && byId.has(s.parent)) {
			if (!kids.has(s.parent)) kids.set(s.parent, []);
			kids.get(s.parent).push(s);
		} else roots.push(s);
	}
	const offsetOf = (s) => big(s.display_offset_ns);
	for (const s of spans) {
		const p = byId.get(s.parent);
		const cOff = p ? offsetOf(p) : 0n;
		const has = (v) => v !== null && v !== undefined && v !== '' && String(v) !== '0';
		s.abs = {
			cs: s.client && has(s.start_ns) ? big(s.start_ns) + cOff : null,
			ce: s.client && has(s.end_ns) ? big(s.end_ns) + cOff : null,
			ss: has(s.server_start_ns) ? big(s.server_start_ns) + offsetOf(s) : null,
			se: has(s.server_end_ns) ? big(s.server_end_ns) + offsetOf(s) : null,
		};
		if (s.abs.cs === null && s.abs.ss === null && has(s.start_ns)) {
			s.abs.cs = big(s.start_ns) + cOff;
			s.abs.ce = has(s.end_ns) ? big(s.end_ns) + cOff : s.abs.cs;
		}
	}
	const all = spans.flatMap((s) => Object.values(s.abs).filter((v) => v !== null));
	const t0 = all.length ? all.reduce((a, b) => (b < a ? b : a)) : 0n;
	const t1 = all.length ? all.reduce((a, b) => (b > a ? b : a)) : 1n;
	const order = [];
	const byStart = (a, b) => {
		const x = a.abs.cs ?? a.abs.ss ?? 0n,
			y = b.abs.cs ?? b.abs.ss ?? 0n;
		return x < y ? -1 : x > y ? 1 : 0;
	};
	const walk = (s, depth) => {
		s.depth = depth;
		order.push(s);
		for (const k of (kids.get(s.id) || []).sort(byStart)) walk(k, depth + 1);
	};
	roots.sort(byStart).forEach((r) => walk(r, 0));
	for (const s of order) {
		s.rel = {};
		for (const [k, v] of Object.entries(s.abs)) s.rel[k] = v === null ? null : Number(v - t0);
	}
	return { order, total: Math.max(1, Number(t1 - t0)), t0, byId };
}

function sideText(x) {
	if (!x) return 'not observed (no sensor there)';
	return `${x.comm || '?'} pid ${x.pid} tid ${x.tid} on ${x.host || '?'} ${x.addr ? `(${x.addr}:${x.port})` : x.port ? `port ${x.port}` : ''}`;
}
function who(s) {
	const srv = s.server;
	if (s.protocol === 'method' && srv) return `${srv.comm || '?'}@${srv.host || '?'} thread ${srv.tid}`;
	if (s.protocol === 'amqp' && srv) return `${srv.comm || '?'}@${srv.host || '?'} (consumer)`;
	if (srv) return `${srv.comm || '?'}@${srv.host || '?'}:${srv.port || ''}`;
	const c = s.client;
	if (s.protocol === 'amqp' && c) return `${c.comm || '?'}@${c.host || '?'} → broker`;
	return c ? `→ ${c.comm || '?'}@${c.host || '?'} (server not observed)` : '';
}

export function mount(el, { arg }) {
	const tid = decodeURIComponent(arg);
	const back = sessionStorage.getItem('weft-back') || '#/trajectories';
	const body = h('div', { id: 'waterfall-wrap' }, loading('the trajectory'));
	el.append(h('div', { class: 'toolbar' }, h('a', { href: back, class: 'back' }, '← Trajectories'), h('h2', {}, 'Trajectory'), h('code', { class: 'muted' }, tid)), body);
	let selected = '';
	let gen = 0;

	async function load(userAction) {
		const my = ++gen;
		if (userAction) body.replaceChildren(loading('the trajectory'));
		let doc;
		try {
			doc = await get(`/api/trajectories/${encodeURIComponent(tid)}`);
		} catch (e) {
			if (my !== gen) return;
			if (e.status === 404) body.replaceChildren(empty('No such trajectory', 'It may have been pruned by retention or merged into a larger trajectory. Go back to the list and pick another.'));
			else body.replaceChildren(errorBox(e));
			el.dataset.ready = 'error';
			return;
		}
		if (my !== gen) return;
		render(doc);
	}

	function render(doc) {
		const { order, total, byId } = arrange(doc);
		const slowSpan = id(doc.slowest_span);
		const slowHop = id(doc.slowest_hop);
		const root = order[0];
		const pctOf = (ns) => `${((100 * ns) / total).toFixed(3)}%`;
		const bar = (cls, a, b, title) => (a === null || b === null ? null : h('span', { class: `seg ${cls}`, style: { left: pctOf(a), width: `max(2px, ${pctOf(Math.max(0, b - a))})` }, title }));
		const detail = h('div', { class: 'span-detail', id: 'span-detail' });
		const rows = order.map((s) => {
			const r = s.rel;
			const segs = [];
			if (r.cs !== null && r.ce !== null) {
				segs.push(bar('client', r.cs, r.ce, `client wait ${dur(r.ce - r.cs)}`));
				if (r.ss !== null) segs.push(bar('net', r.cs, Math.max(r.cs, r.ss), `network + queue out ${dur(Math.max(0, r.ss - r.cs))}`));
				if (r.se !== null) segs.push(bar('net', Math.min(r.se, r.ce), r.ce, `network back ${dur(Math.max(0, r.ce - r.se))}`));
			}
			if (r.ss !== null && r.se !== null) segs.push(s.protocol === 'method' ? bar('method', r.ss, r.se, `method ${dur(r.se - r.ss)}`) : bar('server', r.ss, r.se, `server ${dur(r.se - r.ss)}`));
			const start = r.cs ?? r.ss ?? 0;
			const end = r.ce ?? r.se ?? start;
			const flags = [];
			if (s.id === slowSpan) flags.push(h('span', { class: 'badge slow', title: 'largest own time' }, 'slowest span'));
			if (s.id === slowHop) flags.push(h('span', { class: 'badge hop', title: 'largest network time' }, 'slowest hop'));
			if (s.uncertain && !s.incomplete) flags.push(h('span', { class: 'badge warn', title: 'the link to its parent could not be decided exactly' }, 'uncertain link'));
			if (s.incomplete) flags.push(h('span', { class: 'badge warn', title: 'a request its process sent may belong here but went elsewhere or nowhere' }, 'may miss a child'));
			if (s.error) flags.push(h('span', { class: 'badge bad' }, s.error_text || 'error'));
			const status = num(s.status);
			const classes = ['wf-row', s.id === slowSpan && 'slow', s.id === slowHop && 'hop', s.uncertain && 'uncertain', s.error && 'err', s.id === selected && 'sel'].filter(Boolean).join(' ');
			return h('div', { class: classes, dataset: { span: s.id }, onclick: () => { selected = s.id; render(doc); } },
				h('div', { class: 'wf-label', style: { paddingLeft: `${8 + s.depth * 16}px` } },
					h('span', { class: 'proto' }, s.protocol || ''),
					h('span', { class: 'req', title: s.request }, s.request || '(unparsed)'),
					status ? h('span', { class: `status s${String(status)[0]}` }, status) : null,
					h('div', { class: 'who muted' }, who(s)), flags),
				h('div', { class: 'wf-track' }, segs, h('span', { class: 'wf-dur', style: { left: `calc(${pctOf(end)} + 4px)` } }, dur(end - start))));
		});
		const sel = selected && byId.get(selected);
		if (sel) {
			const r = sel.rel;
			detail.append(h('h4', {}, sel.request || 'span'), h('dl', { class: 'kv' },
				h('dt', {}, 'client'), h('dd', {}, sideText(sel.client)),
				h('dt', {}, 'server'), h('dd', {}, sideText(sel.server)),
				h('dt', {}, 'client time'), h('dd', {}, r.cs !== null && r.ce !== null ? dur(r.ce - r.cs) : '–'),
				h('dt', {}, 'server time'), h('dd', {}, r.ss !== null && r.se !== null ? dur(r.se - r.ss) : '–'),
				h('dt', {}, 'network'), h('dd', {}, r.cs !== null && r.ss !== null && r.se !== null && r.ce !== null ? dur(Math.max(0, r.ce - r.cs - (r.se - r.ss))) : '–'),
				h('dt', {}, 'status'), h('dd', {}, `${num(sel.status) || '–'} ${sel.error ? `(${sel.error_text || 'error'})` : ''}`),
				h('dt', {}, 'linked by'), h('dd', { title: LINKS[sel.link] || '' }, sel.link ? `${sel.link}${sel.uncertain ? ' (uncertain)' : ''}` : 'a root'),
				h('dt', {}, 'bytes'), h('dd', {}, `${bytes(sel.request_bytes)} out, ${bytes(sel.response_bytes)} back`),
				h('dt', {}, 'clock offset'), h('dd', {}, `${dur(Math.abs(num(sel.display_offset_ns)))} applied to its server's times`)));
		} else detail.append(h('p', { class: 'muted' }, 'Click a span for its threads, times and bytes.'));
		const ss = byId.get(slowSpan),
			sh = byId.get(slowHop);
		const answer = h('div', { class: 'rootcause', id: 'rootcause' },
			h('strong', {}, 'Where the time went: '),
			ss ? h('span', {}, 'slowest span ', h('b', {}, ss.request || who(ss)), ` in ${who(ss)}`) : 'no slowest span reported',
			sh && sh !== ss ? h('span', {}, '; slowest hop ', h('b', {}, `${(sh.client && sh.client.comm) || '?'} → ${(sh.server && sh.server.comm) || '?'}`), ` (${sh.request || ''})`) : sh ? h('span', {}, ' (also the slowest hop)') : '');
		const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { class: 'tick', style: { left: `${f * 100}%` } }, dur(total * f)));
		body.replaceChildren(
			h('div', { class: 'traj-head' },
				h('h3', { id: 'traj-title' }, root ? root.request || '(unparsed request)' : ''),
				h('span', {}, `${clock(doc.start_ns)} · ${dur(doc.duration_ns)} · ${order.length} spans · depth ${num(doc.depth)}`),
				doc.error ? h('span', { class: 'badge bad' }, 'error') : null,
				doc.uncertain ? h('span', { class: 'badge warn' }, 'uncertain links') : null),
			answer,
			h('div', { class: 'legend wf-legend' }, h('span', {}, h('i', { class: 'seg client' }), 'client waiting'), h('span', {}, h('i', { class: 'seg net' }), 'network and queues'), h('span', {}, h('i', { class: 'seg server' }), 'server'), h('span', {}, h('i', { class: 'seg method' }), 'method (JVM trace)')),
			h('div', { class: 'waterfall', id: 'waterfall', dataset: { spans: String(order.length) } },
				h('div', { class: 'wf-row wf-axis' }, h('div', { class: 'wf-label' }, 'span'), h('div', { class: 'wf-track' }, ticks)),
				rows),
			detail);
		el.dataset.ready = '1';
	}

	load(true);
	return { refresh: () => load(false) };
}
