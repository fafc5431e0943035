// The models experiment's Node.js tier: the plain http module, one event
// loop, and per request two downstream calls issued at once (Promise.all)
// through one keep-alive http.Agent, to the backend and to the leaf.
//
//   node fanout.js PORT BACK_URL LEAF_URL LOG
//
// The inbound request /node?id=I&k=K&tid=T makes
//   GET /back/node?id=I&k=K&tid=T   (the backend then makes k Redis calls)
//   GET /leaf/node?tid=T
// and appends one JSON line to LOG: the test id, the request served and the
// calls in the order they were issued. That log is the ground truth; weft
// never reads it.
'use strict';
const http = require('http');
const fs = require('fs');

const [port, backUrl, leafUrl, logPath] = process.argv.slice(2);
const agent = new http.Agent({keepAlive: true, maxSockets: 64, maxFreeSockets: 64});
const log = fs.createWriteStream(logPath, {flags: 'a'});

function get(base, target) {
	return new Promise((resolve, reject) => {
		const u = new URL(base);
		const req = http.get({host: u.hostname, port: u.port, path: target, agent}, res => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', d => (body += d));
			res.on('end', () => resolve({status: res.statusCode, body}));
			res.on('error', reject);
		});
		req.on('error', reject);
	});
}

http.createServer((req, res) => {
	const u = new URL(req.url, 'http://x');
	const tid = u.searchParams.get('tid') || '';
	const q = 'id=' + (u.searchParams.get('id') || '1') + '&k=' + (u.searchParams.get('k') || '1') + '&tid=' + tid;
	const calls = [
		{svc: 'back', base: backUrl, target: '/back/node?' + q},
		{svc: 'leaf', base: leafUrl, target: '/leaf/node?tid=' + tid},
	];
	Promise.all(calls.map(c => get(c.base, c.target)))
		.then(rs => [rs.every(r => r.status === 200) ? 200 : 502, rs.map(r => r.body.trim()).join('; ')])
		.catch(e => [502, String(e)])
		.then(([status, body]) => {
			res.writeHead(status, {'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body + '\n')});
			res.end(body + '\n');
			log.write(JSON.stringify({tid, svc: 'node', req: req.method + ' ' + req.url, status,
				calls: calls.map(c => ({svc: c.svc, req: 'GET ' + c.target}))}) + '\n');
		});
}).listen(Number(port), () => console.error('node: listening on ' + port));

process.on('SIGTERM', () => log.end(() => process.exit(0)));
