// One application's graph laid out by dagre: plain data in and out, so it
// runs on the page or in a worker alike.
import dagre from '@dagrejs/dagre';

export const NODE_W = 170;
export const NODE_H = 46;

/* dagre's initial order: depth-first from the nodes by rank, each node
 * placed after those already in its rank (what dagre does before its
 * sweeps). g is dagre's internal layout graph. */
function initialOrder(g) {
	const layers = [];
	const seen = new Set();
	const visit = (v) => {
		if (seen.has(v)) return;
		seen.add(v);
		const r = g.node(v).rank;
		(layers[r] || (layers[r] = [])).push(v);
		for (const w of g.successors(v) || []) visit(w);
	};
	const simple = g.nodes().filter((v) => !g.children(v).length);
	simple.sort((a, b) => g.node(a).rank - g.node(b).rank).forEach(visit);
	for (const layer of layers) if (layer) layer.forEach((v, i) => (g.node(v).order = i));
}

/* One application: {nodes:[id], edges:[[s,t]], ranksep} -> {pos:{id:[x,y]}, routes:{"s t":[[x,y]]}, width, height} */
export function layoutOne(job) {
	// dagre keys everything by strings it concatenates: short ones are cheaper.
	const key = new Map(job.nodes.map((n, i) => [n, String(i)]));
	const g = new dagre.graphlib.Graph();
	// Network simplex ranks best but costs O(V·E) per pivot; past a few dozen
	// edges the feasible tight tree gives nearly the same ranks in a third of
	// the time (dagre's own alternative, not a different layout).
	const ranker = job.edges.length > 40 ? 'tight-tree' : 'network-simplex';
	g.setGraph({ rankdir: 'LR', nodesep: 26, ranksep: job.ranksep, edgesep: 12, marginx: 0, marginy: 0, ranker });
	g.setDefaultEdgeLabel(() => ({}));
	for (const n of job.nodes) g.setNode(key.get(n), { width: NODE_W, height: NODE_H });
	for (const [s, t] of job.edges) if (s !== t) g.setEdge(key.get(s), key.get(t));
	// The crossing-reduction sweeps are the other large cost; past 80 edges in
	// one application they are skipped: such a graph has many crossings
	// whatever the order, and a second per application matters more. dagre's
	// own switch for that (disableOptimalOrderHeuristic) still builds the
	// sweeps' layer graphs first; its customOrder hook with the same initial
	// order gives the identical layout in about half the time.
	dagre.layout(g, job.edges.length > 80 ? { customOrder: initialOrder } : {});
	const pos = {};
	for (const n of job.nodes) {
		const v = g.node(key.get(n));
		pos[n] = [Math.round(v.x), Math.round(v.y)];
	}
	const routes = {};
	for (const [s, t] of job.edges) {
		const e = s !== t && g.edge(key.get(s), key.get(t));
		if (e) routes[`${s} ${t}`] = e.points.map((p) => [Math.round(p.x), Math.round(p.y)]);
	}
	const gg = g.graph();
	return { pos, routes, width: gg.width || NODE_W, height: gg.height || NODE_H };
}
