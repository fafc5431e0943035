// The server's JSON API, same origin only. Ids are 64-bit: the server sends
// them as strings, but any integer literal too long for a double is turned
// into a string before parsing, so no id or nanosecond time ever loses
// precision. Use id() for ids and num()/big() for numbers.

const BIG_INT = /("(?:[^"\\]|\\.)*")|(?<![\d.eE+-])(-?\d{16,})(?![.eE\d])/g;

export function parseJSON(text) {
	return JSON.parse(text.replace(BIG_INT, (m, str, int) => (str !== undefined ? str : `"${int}"`)));
}

export class ApiError extends Error {
	constructor(message, status) {
		super(message);
		this.status = status;
	}
}

async function request(method, path, body) {
	let res;
	const pre = window.weftPrefetch;
	try {
		if (pre && method === 'GET' && pre.url === path) {
			window.weftPrefetch = null; // one use: later refreshes ask anew
			res = await pre.response;
		} else res = await fetch(path, {
			method,
			body,
			headers: body !== undefined ? { 'Content-Type': 'text/plain' } : undefined,
			cache: 'no-store',
		});
	} catch (e) {
		throw new ApiError(`cannot reach the weft server (${e.message})`, 0);
	}
	const text = await res.text();
	let doc = null;
	try {
		doc = text ? parseJSON(text) : null;
	} catch {
		if (res.ok) throw new ApiError(`${path}: the server sent something that is not JSON`, res.status);
	}
	if (!res.ok) {
		const why = (doc && (doc.error || doc.message)) || text.slice(0, 200) || res.statusText;
		throw new ApiError(`${method} ${path}: ${res.status} ${why}`, res.status);
	}
	return doc;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);

export function query(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v === undefined || v === null || v === '' || v === false) continue;
		q.set(k, v === true ? '1' : String(v));
	}
	const s = q.toString();
	return s ? `?${s}` : '';
}

/* ---- values ------------------------------------------------------------------------------ */

export const id = (v) => (v === null || v === undefined ? '' : String(v));
export const num = (v) => (v === null || v === undefined || v === '' ? 0 : Number(v));
export function big(v) {
	if (v === null || v === undefined || v === '') return 0n;
	if (typeof v === 'bigint') return v;
	if (typeof v === 'number') return BigInt(Math.round(v));
	return BigInt(v);
}
/* ns (string or number) minus base, as a Number of nanoseconds, exactly. */
export const nsDiff = (ns, base) => Number(big(ns) - big(base));

export function nowNs() {
	return BigInt(Date.now()) * 1000000n;
}
