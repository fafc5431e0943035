// Sensors: every host's sensor with its health (last seen, events, drops,
// lag, capture mode) and the control that switches a host, or a process on
// it, between connection-only and message-level capture.
import { get, post, num } from '../api.js';
import { h, count, dur, ago, clock, loading, empty, errorBox, code } from '../format.js';

const STALE_S = 30;

export function mount(el) {
	const body = h('div', { id: 'sensors' }, loading('sensors'));
	const log = h('div', { class: 'replies', id: 'control-replies' });
	el.append(h('div', { class: 'toolbar' }, h('h2', {}, 'Sensors')), body, log);
	let gen = 0;
	const busy = new Set();

	async function control(sensor, command) {
		busy.add(sensor);
		render(last);
		const line = h('p', {}, h('code', {}, `${sensor}: ${command}`), ' … ');
		log.prepend(line);
		try {
			const r = await post(`/api/sensors/${encodeURIComponent(sensor)}/control`, command);
			line.append(h('span', { class: 'ok' }, r && r.reply !== undefined ? String(r.reply) : 'ok'));
			line.classList.add('reply-ok');
		} catch (e) {
			line.append(h('span', { class: 'bad' }, e.message));
			line.classList.add('reply-err');
		} finally {
			busy.delete(sensor);
			await load(false).catch(() => {});
		}
	}

	function narrowForm(s) {
		const kind = h('select', { 'aria-label': 'narrow by' }, ['pid', 'comm', 'port'].map((k) => h('option', { value: k }, k)));
		const val = h('input', { placeholder: 'value', size: 8, 'aria-label': 'value', required: true });
		return h('form', { class: 'narrow', onsubmit: (ev) => { ev.preventDefault(); if (val.value.trim()) control(s.id, `select ${kind.value} ${val.value.trim()}`); } },
			'messages only for ', kind, val, h('button', { type: 'submit' }, 'Narrow'),
			h('button', { type: 'button', onclick: () => control(s.id, 'select clear') }, 'Clear'));
	}

	let last = null;
	function render(doc) {
		if (!doc) return;
		const list = doc.sensors || [];
		el.dataset.ready = '1';
		if (!list.length) {
			body.replaceChildren(empty('No sensor connected',
				'Run a sensor on each host you want to watch, pointed at this server\'s sensor port (7071 unless the server was started with --listen):',
				code('sudo weft sensor --server SERVER:7071 --host NAME'),
				'It appears here within seconds, and the map fills as soon as it sees traffic.'));
			return;
		}
		body.replaceChildren(h('table', { class: 'grid sensors' },
			h('thead', {}, h('tr', {}, ['host', 'state', 'last seen', 'events', 'drops', 'spool drops', 'lag', 'capture', ''].map((c) => h('th', {}, c)))),
			h('tbody', {}, list.map((s) => {
				const seen = (Date.now() - Number(BigInt(s.last_seen_ns || 0) / 1000000n)) / 1000;
				const state = s.connected ? (seen > STALE_S ? 'stale' : 'connected') : 'disconnected';
				const messages = s.mode === 'messages';
				const dis = busy.has(s.id) || !s.connected;
				return h('tr', { dataset: { sensor: s.id, mode: s.mode || '' } },
					h('td', {}, h('b', {}, s.host || s.id), s.host && s.host !== s.id ? h('span', { class: 'muted' }, ` (${s.id})`) : ''),
					h('td', {}, h('span', { class: `dot ${state}` }), state),
					h('td', { title: clock(s.last_seen_ns) }, ago(s.last_seen_ns)),
					h('td', {}, count(s.events)),
					h('td', { class: num(s.drops) ? 'bad' : '' }, count(s.drops)),
					h('td', { class: num(s.spool_drops) ? 'bad' : '' }, count(s.spool_drops)),
					h('td', {}, dur(Math.abs(num(s.lag_ns)))),
					h('td', { class: 'mode' }, messages ? 'message-level' : s.mode === 'connections' ? 'connections only' : s.mode || '–'),
					h('td', { class: 'controls' },
						h('div', { class: 'seg-switch', role: 'group', 'aria-label': 'capture mode' },
							h('button', { class: messages ? 'on' : '', disabled: dis || messages, dataset: { cmd: 'messages on' }, onclick: () => control(s.id, 'messages on') }, 'Messages'),
							h('button', { class: !messages ? 'on' : '', disabled: dis || !messages, dataset: { cmd: 'messages off' }, onclick: () => control(s.id, 'messages off') }, 'Connections only')),
						narrowForm(s)));
			}))));
	}

	async function load(userAction) {
		const my = ++gen;
		if (userAction) body.replaceChildren(loading('sensors'));
		const doc = await get('/api/sensors');
		if (my !== gen) return;
		last = doc;
		// Keep a half-typed narrowing value: skip the redraw while a form field has focus.
		if (!userAction && el.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') return;
		render(doc);
	}

	load(true).catch((e) => { body.replaceChildren(errorBox(e)); el.dataset.ready = 'error'; });
	return { refresh: () => load(false) };
}
