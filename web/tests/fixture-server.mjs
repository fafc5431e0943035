// A stand-in for the weft server's HTTP API, serving the built dashboard and
// JSON in the documented shapes: a three-tier application, trajectories, and
// a sensor whose capture mode follows the control commands. Used by the
// dashboard's own tests when no real server is wanted (layout, paging,
// empty and error states) and for development.
//   node fixture-server.mjs --port 7080 --root ../../build/web [--services N --edges M] [--empty]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((a) => { const [k, ...v] = a.trim().split(' '); return [k, v.join(' ') || true]; }));
const port = Number(args.port || 7080);
const root = path.resolve(args.root || 'build/web');
const nsNow = () => BigInt(Date.now()) * 1000000n;
const hex = (n) => BigInt(n).toString(16).padStart(16, '0');
// Ids past 2^53, as the real server's hashes are.
const sid = (i) => hex(0xf00d000000000000n + BigInt(i) * 7919n);

function synthMap(nSvc, nEdges) {
	// Applications of about 30 services each; edges go from lower to higher tiers within one.
	const per = 30;
	const nodes = [];
	const apps = [];
	for (let i = 0; i < nSvc; i++) {
		const app = Math.floor(i / per);
		if (!apps[app]) apps[app] = { id: `app-${hex(app + 1)}`, name: `app${app}`, services: [] };
		nodes.push({ id: sid(i), name: `svc-${i}`, host: `h${i % 20}`, exe: `/usr/bin/svc-${i}`, comm: `svc-${i}`, addr: '', ports: [8000 + i], instances: 1 + (i % 4), application: apps[app].id, external: false });
		apps[app].services.push(sid(i));
	}
	const edges = [];
	const seen = new Set();
	let r = 12345;
	const rnd = (n) => ((r = (r * 1103515245 + 12345) % 2147483648), Math.floor((r / 2147483648) * n));
	// a spanning chain per application, then random forward edges
	const add = (a, b) => {
		const k = `${a}-${b}`;
		if (!seen.has(k)) edges.push([a, b]);
		seen.add(k);
	};
	// Tiers of six services in each application, as in a real system: each
	// service calls into the next tier or two, so the depth stays about five.
	const tier = (i) => Math.floor((i % per) / 6);
	const inTier = (app, t) => (t * 6 >= per ? [] : Array.from({ length: 6 }, (_, k) => app * per + t * 6 + k).filter((x) => x < nSvc));
	for (let i = 0; i < nSvc; i++) if (tier(i) > 0) { const up = inTier(Math.floor(i / per), tier(i) - 1); add(up[rnd(up.length)], i); }
	for (let tries = 0; edges.length < nEdges && tries < nEdges * 100; tries++) {
		const a = rnd(nSvc);
		const t = tier(a) + 1 + (rnd(4) === 0 ? 1 : 0);
		const next = inTier(Math.floor(a / per), t);
		if (next.length) add(a, next[rnd(next.length)]);
	}
	return {
		nodes, applications: apps,
		edges: edges.map(([a, b], k) => ({ source: sid(a), target: sid(b), port: 8000 + b, calls: 50 + rnd(5000), errors: k % 17 === 0 ? rnd(50) : 0, bytes: 1000 * rnd(999), p50_ms: 1 + rnd(20), p95_ms: 5 + rnd(400), p99_ms: 10 + rnd(900) })),
	};
}

const three = {
	nodes: [
		{ id: sid(1), name: 'client', host: 'h1', exe: '/usr/bin/python3', comm: 'client', addr: '', ports: [], instances: 1, application: 'app-1', external: false },
		{ id: sid(2), name: 'front', host: 'h1', exe: '/usr/bin/python3', comm: 'front', addr: '', ports: [8081], instances: 1, application: 'app-1', external: false },
		{ id: sid(3), name: 'back', host: 'h1', exe: '/usr/bin/python3', comm: 'back', addr: '', ports: [8082], instances: 2, application: 'app-1', external: false },
	],
	edges: [
		{ source: sid(1), target: sid(2), port: 8081, calls: 900, errors: 0, bytes: 90000, p50_ms: 3, p95_ms: 8.5, p99_ms: 12 },
		{ source: sid(2), target: sid(3), port: 8082, calls: 900, errors: 45, bytes: 45000, p50_ms: 1, p95_ms: 4.2, p99_ms: 6 },
	],
	applications: [{ id: 'app-1', name: 'client', services: [sid(1), sid(2), sid(3)] }],
};
const mapDoc = args.empty ? { nodes: [], edges: [], applications: [] } : args.services ? synthMap(Number(args.services), Number(args.edges || 0)) : three;

const side = (host, pid, tid, comm, port) => ({ host, pid, tid, comm, addr: '127.0.0.1', port });
function trajectory(i) {
	const t0 = nsNow() - BigInt(i) * 1000000000n;
	const ms = 1000000n;
	const id = hex(0xabc0000000000000n + BigInt(i));
	const s1 = hex(0xabc0000000000000n + BigInt(i)), s2 = hex(0xbbc0000000000000n + BigInt(i)), s3 = hex(0xcbc0000000000000n + BigInt(i)), s4 = hex(0xdbc0000000000000n + BigInt(i));
	const err = i % 10 === 3;
	const spans = [
		{ id: s1, parent: null, client_service: sid(1), server_service: sid(2), client: side('h1', 100, 100, 'client', 40000 + i), server: side('h1', 200, 201 + (i % 3), 'front', 8081), start_ns: t0, end_ns: t0 + 9n * ms, server_start_ns: t0 + ms / 4n, server_end_ns: t0 + 9n * ms - ms / 4n, display_offset_ns: 0, protocol: 'http', request: `GET /order?id=${i}`, status: err ? 502 : 200, error: err, error_text: err ? 'HTTP 502' : '', uncertain: false, request_bytes: 120, response_bytes: 300 },
		{ id: s2, parent: s1, client_service: sid(2), server_service: sid(3), client: side('h1', 200, 201 + (i % 3), 'front', 41000 + i), server: side('h1', 300, 301, 'back', 8082), start_ns: t0 + ms, end_ns: t0 + 5n * ms, server_start_ns: t0 + ms + ms / 2n, server_end_ns: t0 + 4n * ms, display_offset_ns: 0, protocol: 'http', request: `GET /stock?id=${i}`, status: err ? 503 : 200, error: err, error_text: err ? 'HTTP 503' : '', uncertain: false, request_bytes: 80, response_bytes: 50 },
		// a JVM method call traced inside the back end's exchange (client side never observed)
		{ id: s4, parent: s2, client_service: sid(3), server_service: sid(3), client: null, server: side('h1', 300, 301, 'back', 0), start_ns: t0 + 2n * ms, end_ns: t0 + 3n * ms, server_start_ns: t0 + 2n * ms, server_end_ns: t0 + 3n * ms, display_offset_ns: 0, protocol: 'method', request: 'com.shop.Stock.check', status: 0, error: false, error_text: '', uncertain: false, request_bytes: 0, response_bytes: 0 },
		{ id: s3, parent: s1, client_service: sid(2), server_service: sid(3), client: side('h1', 200, 201 + (i % 3), 'front', 42000 + i), server: side('h1', 300, 302, 'back', 8082), start_ns: t0 + 5n * ms + ms / 2n, end_ns: t0 + 8n * ms, server_start_ns: t0 + 6n * ms, server_end_ns: t0 + 7n * ms, display_offset_ns: 0, protocol: 'http', request: `GET /price?id=${i}`, status: 200, error: false, error_text: '', uncertain: i % 4 === 0, request_bytes: 80, response_bytes: 50 },
	];
	return { id, start_ns: t0, duration_ns: 9n * ms, root: { service: sid(2), host: 'h1', exe: '/usr/bin/python3', comm: 'front', request: spans[0].request }, spans, depth: 3, error: err, uncertain: i % 4 === 0, slowest_span: s2, slowest_hop: s3 };
}
const NTRAJ = args.empty ? 0 : 137;
const sensors = args.empty ? [] : [{ id: 'h1', host: 'h1', last_seen_ns: nsNow(), events: 123456, drops: 0, spool_drops: 0, lag_ns: 2500000, mode: 'messages', connected: true }];

const json = (res, code, doc) => {
	const body = JSON.stringify(doc, (k, v) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(/"@@(-?\d+)@@"/g, '$1');
	res.writeHead(code, { 'Content-Type': 'application/json' });
	res.end(body);
};

http.createServer((req, res) => {
	const u = new URL(req.url, 'http://x');
	const p = u.pathname;
	if (p === '/api/health') return json(res, 200, { ok: true });
	if (p === '/api/map') return setTimeout(() => json(res, 200, { since_ns: nsNow() - 900n * 1000000000n, until_ns: nsNow(), ...mapDoc }), Number(args.delay || 0));
	if (p === '/api/sensors') { sensors.forEach((s) => (s.last_seen_ns = nsNow())); return json(res, 200, { sensors }); }
	let m = p.match(/^\/api\/sensors\/([^/]+)\/control$/);
	if (m && req.method === 'POST') {
		let body = '';
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			const s = sensors.find((x) => x.id === decodeURIComponent(m[1]));
			if (!s) return json(res, 404, { error: 'no such sensor' });
			if (body.trim() === 'messages on') s.mode = 'messages';
			if (body.trim() === 'messages off') s.mode = 'connections';
			json(res, 200, { reply: `ok ${body.trim()}` });
		});
		return;
	}
	if (p === '/api/trajectories') {
		const q = u.searchParams;
		let all = Array.from({ length: NTRAJ }, (_, i) => trajectory(i));
		if (q.get('errors') === '1') all = all.filter((t) => t.error);
		if (q.get('request')) all = all.filter((t) => t.root.request.includes(q.get('request')));
		if (q.get('min_ms')) all = all.filter((t) => Number(t.duration_ns) >= Number(q.get('min_ms')) * 1e6);
		if (q.get('max_ms')) all = all.filter((t) => Number(t.duration_ns) <= Number(q.get('max_ms')) * 1e6);
		const off = Number(q.get('offset') || 0), lim = Number(q.get('limit') || 50);
		return json(res, 200, { trajectories: all.slice(off, off + lim).map((t) => ({ ...t, spans: t.spans.length })), total: all.length });
	}
	m = p.match(/^\/api\/trajectories\/([0-9a-f]+)$/);
	if (m) {
		const i = Number(BigInt(`0x${m[1]}`) - 0xabc0000000000000n);
		return i >= 0 && i < NTRAJ ? json(res, 200, trajectory(i)) : json(res, 404, { error: 'no such trajectory' });
	}
	if (p.startsWith('/api/')) return json(res, 404, { error: 'no such route' });
	const f = path.join(root, p === '/' ? 'index.html' : path.normalize(p));
	if (!f.startsWith(root) || !fs.existsSync(f) || fs.statSync(f).isDirectory()) { res.writeHead(404); return res.end('not found'); }
	const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
	res.writeHead(200, { 'Content-Type': types[path.extname(f)] || 'application/octet-stream' });
	fs.createReadStream(f).pipe(res);
}).listen(port, '127.0.0.1', () => console.error(`fixture server on 127.0.0.1:${port}`));
