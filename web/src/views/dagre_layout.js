// One application's graph laid out by dagre: plain data in and out, so it
// runs on the page or in a worker alike.
import dagre from '@dagrejs/dagre';

export const NODE_W = 170;
export const NODE_H = 46;

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
	// one application they are skipped (dagre's own switch): such a graph has
	// many crossings whatever the order, and a second per app matters more.
	dagre.layout(g, { disableOptimalOrderHeuristic: job.edges.length > 80 });
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
