// The map drawn as SVG: application boxes, service nodes, edges routed by
// the layout. Wheel zooms around the pointer, dragging pans, a click selects
// a service or an edge, a click on the background clears the selection.
// The view (zoom and pan) survives redraws.
import { NODE_W, NODE_H } from './layout.js';

const NS = 'http://www.w3.org/2000/svg';
const HEALTHS = ['ok', 'warn', 'bad', 'idle'];

function el(tag, attrs, parent) {
	const e = document.createElementNS(NS, tag);
	for (const k in attrs) e.setAttribute(k, attrs[k]);
	if (parent) parent.append(e);
	return e;
}

/* A path through the layout's route points, smoothed with quadratic curves. */
function routePath(pts) {
	if (pts.length < 3) return `M${pts[0][0]},${pts[0][1]}L${pts[pts.length - 1][0]},${pts[pts.length - 1][1]}`;
	let d = `M${pts[0][0]},${pts[0][1]}`;
	for (let i = 1; i < pts.length - 1; i++) {
		const mx = (pts[i][0] + pts[i + 1][0]) / 2,
			my = (pts[i][1] + pts[i + 1][1]) / 2;
		d += `Q${pts[i][0]},${pts[i][1]} ${i === pts.length - 2 ? `${pts[i + 1][0]},${pts[i + 1][1]}` : `${mx},${my}`}`;
	}
	return d;
}

export class MapGraph {
	constructor(container, { onSelect }) {
		this.container = container;
		this.onSelect = onSelect;
		this.view = null; // {k, x, y}
		this.svg = el('svg', { class: 'mapsvg', role: 'img', 'aria-label': 'service map' });
		const defs = el('defs', {}, this.svg);
		for (const hlt of HEALTHS) {
			const m = el('marker', { id: `arrow-${hlt}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
			el('path', { d: 'M0,0L10,5L0,10z', class: `arrowhead h-${hlt}` }, m);
		}
		this.root = el('g', { class: 'viewport' }, this.svg);
		container.append(this.svg);
		this.nodes = new Map();
		this.edges = new Map();
		this.selected = '';
		this.listen();
	}

	listen() {
		let drag = null;
		this.svg.addEventListener('pointerdown', (ev) => {
			drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x, vy: this.view.y, moved: false };
		});
		window.addEventListener('pointermove', (this._move = (ev) => {
			if (!drag) return;
			const dx = ev.clientX - drag.x,
				dy = ev.clientY - drag.y;
			if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
			if (drag.moved) this.setView({ k: this.view.k, x: drag.vx + dx, y: drag.vy + dy });
		}));
		window.addEventListener('pointerup', (this._up = () => setTimeout(() => (drag = null))));
		this.svg.addEventListener('click', (ev) => {
			if (drag && drag.moved) return;
			const g = ev.target.closest('[data-id], [data-key]');
			this.onSelect(g ? g.dataset.id || g.dataset.key : '');
		});
		this.svg.addEventListener('pointerover', (ev) => {
			const g = ev.target.closest && ev.target.closest('[data-key]');
			if (g) this.label(this.edges.get(g.dataset.key));
		});
		this.svg.addEventListener('wheel', (ev) => {
			ev.preventDefault();
			const r = this.svg.getBoundingClientRect();
			const px = ev.clientX - r.left,
				py = ev.clientY - r.top;
			const k = Math.min(3, Math.max(0.03, this.view.k * Math.exp(-ev.deltaY * 0.0015)));
			const f = k / this.view.k;
			this.setView({ k, x: px - (px - this.view.x) * f, y: py - (py - this.view.y) * f });
		}, { passive: false });
	}

	setView(v) {
		this.view = v;
		this.root.setAttribute('transform', `translate(${v.x},${v.y}) scale(${v.k})`);
		this.svg.classList.toggle('zoomed', v.k >= 0.75);
		if (v.k >= 0.75 && !this.allLabels) {
			this.allLabels = true;
			for (const [, x] of this.edges) this.label(x);
		}
		this.svg.classList.toggle('far', v.k < 0.35);
	}

	fit(pad = 24) {
		const w = this.container.clientWidth || 1000,
			h = this.container.clientHeight || 600;
		const b = this.bounds;
		if (!b) return;
		const k = Math.min(1.5, (w - 2 * pad) / Math.max(1, b.w), (h - 2 * pad) / Math.max(1, b.h));
		this.setView({ k, x: (w - b.w * k) / 2 - b.x * k, y: (h - b.h * k) / 2 - b.y * k });
	}

	/* items: {boxes:[{id,x,y,w,h,label}], nodes:[{id,x,y,lines,health,external}], edges:[{key,source,target,points,label,health,width}]} */
	draw(items, keepView) {
		const frag = document.createDocumentFragment();
		const gApps = el('g', { class: 'apps' }, frag);
		const gEdges = el('g', { class: 'edges' }, frag);
		const gNodes = el('g', { class: 'nodes' }, frag);
		let x0 = Infinity,
			y0 = Infinity,
			x1 = -Infinity,
			y1 = -Infinity;
		for (const b of items.boxes) {
			const g = el('g', { class: 'app', 'data-app': b.id }, gApps);
			el('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: 8 }, g);
			el('text', { x: b.x + 12, y: b.y + 20, class: 'app-title' }, g).textContent = b.label;
			x0 = Math.min(x0, b.x);
			y0 = Math.min(y0, b.y);
			x1 = Math.max(x1, b.x + b.w);
			y1 = Math.max(y1, b.y + b.h);
		}
		this.bounds = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
		this.edges.clear();
		this.allLabels = false;
		for (const e of items.edges) {
			const g = el('g', { class: `edge h-${e.health}`, 'data-key': e.key, 'data-source': e.source, 'data-target': e.target }, gEdges);
			const d = routePath(e.points);
			if (!items.big) el('path', { d, class: 'hit' }, g);
			const line = el('path', { d, class: 'line', 'stroke-width': e.width, 'marker-end': `url(#arrow-${e.health})` }, g);
			const mid = e.points[Math.floor(e.points.length / 2)];
			const prev = e.points[Math.max(0, Math.floor(e.points.length / 2) - 1)];
			const lx = e.points.length % 2 ? mid[0] : (mid[0] + prev[0]) / 2,
				ly = e.points.length % 2 ? mid[1] : (mid[1] + prev[1]) / 2;
			// Big maps create an edge's label the first time it is shown.
			const x = { g, line, t: null, mid: [lx, ly], label: e.label };
			if (!items.big) this.label(x);
			this.edges.set(e.key, x);
		}
		this.nodes.clear();
		for (const n of items.nodes) {
			const g = el('g', { class: `node h-${n.health}${n.external ? ' external' : ''}`, 'data-id': n.id, transform: `translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})` }, gNodes);
			el('rect', { width: NODE_W, height: NODE_H, rx: 7 }, g);
			const t = el('text', { x: NODE_W / 2, y: 19, class: 'name' }, g);
			t.textContent = n.lines[0];
			const t2 = el('text', { x: NODE_W / 2, y: 35, class: 'sub' }, g);
			t2.textContent = n.lines[1];
			this.nodes.set(n.id, { g, t, t2, x: n.x, y: n.y });
		}
		this.root.replaceChildren(frag);
		if (keepView && this.view) this.setView(this.view);
		else this.fit();
		if (this.selected) this.select(this.selected);
	}

	label(x) {
		if (!x.t) {
			x.t = el('text', { x: x.mid[0], y: x.mid[1] - 5, class: 'edge-label' }, x.g);
			x.t.textContent = x.label;
		}
		return x;
	}

	/* Labels and health in place, after a refresh that kept the shape. */
	update(items) {
		for (const n of items.nodes) {
			const x = this.nodes.get(n.id);
			if (!x) continue;
			x.g.setAttribute('class', `node h-${n.health}${n.external ? ' external' : ''}${n.id === this.selected ? ' selected' : ''}`);
			x.t.textContent = n.lines[0];
			x.t2.textContent = n.lines[1];
		}
		for (const e of items.edges) {
			const x = this.edges.get(e.key);
			if (!x) continue;
			x.g.setAttribute('class', `edge h-${e.health}${x.g.classList.contains('near') ? ' near' : ''}${e.key === this.selected ? ' selected' : ''}`);
			x.line.setAttribute('stroke-width', e.width);
			x.line.setAttribute('marker-end', `url(#arrow-${e.health})`);
			x.label = e.label;
			if (x.t) x.t.textContent = e.label;
		}
	}

	select(id) {
		this.selected = id;
		this.svg.classList.toggle('focus', !!id);
		for (const e of this.root.querySelectorAll('.selected, .near')) e.classList.remove('selected', 'near');
		if (!id) return;
		const n = this.nodes.get(id);
		if (n) {
			n.g.classList.add('selected', 'near');
			for (const [, e] of this.edges) {
				const { source, target } = e.g.dataset;
				if (source === id || target === id) {
					this.label(e).g.classList.add('near');
					this.nodes.get(source === id ? target : source)?.g.classList.add('near');
				}
			}
			return;
		}
		const e = this.edges.get(id);
		if (e) {
			this.label(e).g.classList.add('selected', 'near');
			this.nodes.get(e.g.dataset.source)?.g.classList.add('near');
			this.nodes.get(e.g.dataset.target)?.g.classList.add('near');
		}
	}

	/* Page coordinates of a service's centre or an edge's label point. */
	clientPoint(id) {
		const n = this.nodes.get(id);
		const e = n ? null : this.edges.get(id);
		if (!n && !e) return null;
		const [x, y] = n ? [n.x, n.y] : e.mid;
		const r = this.svg.getBoundingClientRect();
		return { x: r.left + this.view.x + x * this.view.k, y: r.top + this.view.y + y * this.view.k };
	}

	center(id, k = 1.1) {
		const n = this.nodes.get(id);
		const e = n ? null : this.edges.get(id);
		if (!n && !e) return;
		const [x, y] = n ? [n.x, n.y] : e.mid;
		const w = this.container.clientWidth,
			h = this.container.clientHeight;
		this.setView({ k, x: w / 2 - x * k, y: h / 2 - y * k });
	}

	destroy() {
		window.removeEventListener('pointermove', this._move);
		window.removeEventListener('pointerup', this._up);
		this.svg.remove();
	}
}
