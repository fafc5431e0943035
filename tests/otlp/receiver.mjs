// An OTLP/HTTP JSON trace receiver for weft's tests, on loopback. Each
// request is decoded with OpenTelemetry's own protobuf definitions (the
// protobufjs code that @opentelemetry/otlp-transformer generates from
// opentelemetry-proto), encoded to protobuf and decoded again: a field the
// schema does not know, or a value of the wrong type, does not survive the
// round trip and the request is answered 400 and reported. What survived is
// written as one JSON line per request (ids back in hex), and that is all a
// test reads.
//
//   node receiver.mjs --out FILE [--port N] [--mode ok|slow|fail] [--delay-ms N]
//
// Prints "listening PORT" once ready. --mode slow answers each request after
// --delay-ms; fail answers 503.
import { createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const args = { port: 0, mode: 'ok', delayMs: 2000, out: null };
for (let i = 2; i < process.argv.length; i += 2) {
	const [k, v] = [process.argv[i], process.argv[i + 1]];
	if (k === '--port') args.port = Number(v);
	else if (k === '--mode') args.mode = v;
	else if (k === '--delay-ms') args.delayMs = Number(v);
	else if (k === '--out') args.out = v;
	else throw new Error(`unknown option ${k}`);
}
if (!args.out) throw new Error('--out FILE is required');

const ID_KEYS = { traceId: 32, spanId: 16, parentSpanId: 16 };

// OTLP/JSON writes ids in hex where protobuf's JSON mapping has base64.
function idsTo(obj, conv) {
	if (Array.isArray(obj)) return obj.map((x) => idsTo(x, conv));
	if (obj === null || typeof obj !== 'object') return obj;
	const out = {};
	for (const [k, v] of Object.entries(obj)) out[k] = k in ID_KEYS ? conv(k, v) : idsTo(v, conv);
	return out;
}

function hexToB64(k, v) {
	if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${ID_KEYS[k]}}$`).test(v))
		throw new Error(`${k} ${JSON.stringify(v)} is not ${ID_KEYS[k]} lower-case hex digits`);
	return Buffer.from(v, 'hex').toString('base64');
}

const b64ToHex = (k, v) => Buffer.from(v, 'base64').toString('hex');

// Every member of what weft sent must come back the same from the decoder.
function compare(sent, back, path, errors) {
	if (Array.isArray(sent)) {
		if (!sent.length && back === undefined) return;
		if (!Array.isArray(back) || back.length !== sent.length) {
			errors.push(`${path}: ${sent.length} elements sent, ${back ? back.length : 0} decoded`);
			return;
		}
		sent.forEach((x, i) => compare(x, back[i], `${path}[${i}]`, errors));
	} else if (sent !== null && typeof sent === 'object') {
		for (const [k, v] of Object.entries(sent))
			compare(v, back ? back[k] : undefined, `${path}.${k}`, errors);
	} else if (sent !== back) {
		errors.push(`${path}: sent ${JSON.stringify(sent)}, decoded ${JSON.stringify(back)}`);
	}
}

function decode(body) {
	const sent = JSON.parse(body);
	const msg = Request.fromObject(idsTo(sent, hexToB64));
	const wire = Request.encode(msg).finish();
	const back = idsTo(
		Request.toObject(Request.decode(wire), { longs: String, enums: Number, bytes: String }),
		b64ToHex,
	);
	const errors = [];
	compare(sent, back, 'request', errors);
	return { back, errors, bytes: wire.length };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', async () => {
		const at = Date.now();
		let status = 200, answer = '{}', record;
		try {
			if (req.method !== 'POST' || req.url !== '/v1/traces')
				throw new Error(`${req.method} ${req.url}`);
			if (!/^application\/json\b/.test(req.headers['content-type'] || ''))
				throw new Error(`content-type ${req.headers['content-type']}`);
			const { back, errors } = decode(Buffer.concat(chunks).toString('utf8'));
			if (errors.length) throw new Error(errors.slice(0, 5).join('; '));
			record = { at, request: back };
		} catch (e) {
			status = 400;
			answer = JSON.stringify({ error: String(e.message || e) });
			record = { at, error: String(e.message || e) };
		}
		if (status === 200 && args.mode === 'fail') {
			status = 503;
			record = { at, refused: true };
		}
		if (args.mode === 'slow') await sleep(args.delayMs);
		record.answered = Date.now();
		record.status = status;
		appendFileSync(args.out, JSON.stringify(record) + '\n');
		res.writeHead(status, { 'Content-Type': 'application/json' });
		res.end(answer);
	});
});
server.keepAliveTimeout = 60000;
server.listen(args.port, '127.0.0.1', () => {
	console.log(`listening ${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
