// SPDX-License-Identifier: BSD-3-Clause
// alternate.mjs - headless Chromium follows 300 Try Alternate to another node.
//
//   node alternate.mjs TURNPIKE-BINARY TURNPIKECTL
//
// Two turnpike nodes, node 1 on 127.0.0.1 and node 2 on TP_ALT_ADDR (set up by
// alternate.sh), with their own relay port ranges. Node 1 has
// total-quota = 1 and alternate-server = node 2's udp: listener; this test
// fills that one allocation itself over raw UDP (a long-term-credential
// Allocate), then checks that a second raw Allocate gets 300 with
// ALTERNATE-SERVER naming node 2. Chromium's two relay-only peers are given
// only node 1 (turn:...?transport=udp). Node 1's log must have a 300 for each
// peer, node 1 must still list only the allocation this test holds, and node 2
// must get both peers' Allocates: libwebrtc follows the 300. Node 1 answers
// the peers' first (unauthenticated) Allocate with the 300 before any 401
// (docs/CLUSTER.md), so Chromium authenticates at node 2 with node 2's own
// nonce: the data channel must open with both selected relay candidates in
// node 2's relay range, node 2's `turnpikectl sessions --json` listing both,
// and no 438 from node 2.
// Exit 0 pass, 1 fail, 77 skip.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	CHROMIUM, USER, PASS, REALM, log, check, failed, startServer, stopServer,
	servePage, launchBrowser, pageTest, checkFlow, run,
} from './webrtc.mjs';

// node 2's address: libwebrtc ignores an ALTERNATE-SERVER on loopback
// (TurnPort::SetAlternateServer, crbug.com/649118: "300 Failed to set alternate
// server"), so alternate.sh runs this in a namespace of its own with this
// documentation address on its lo; node 1 and Chromium stay on 127.0.0.1.
const ALT = process.env.TP_ALT_ADDR || '';
const MAGIC = 0x2112a442;
const A = { USERNAME: 0x0006, MI: 0x0008, ERROR: 0x0009, REALM: 0x0014, NONCE: 0x0015,
	REQ_TRANSPORT: 0x0019, XOR_RELAYED: 0x0016, ALTERNATE: 0x8023 };

function attr(type, value) {
	const pad = (4 - (value.length % 4)) % 4;
	const b = Buffer.alloc(4 + value.length + pad);
	b.writeUInt16BE(type, 0);
	b.writeUInt16BE(value.length, 2);
	value.copy(b, 4);
	return b;
}

// An Allocate (UDP); signed with the long-term key when auth = { realm, nonce }.
function allocate(auth) {
	const tid = crypto.randomBytes(12);
	let body = Buffer.concat([attr(A.REQ_TRANSPORT, Buffer.from([17, 0, 0, 0]))]);
	if (auth)
		body = Buffer.concat([body, attr(A.USERNAME, Buffer.from(USER)),
			attr(A.REALM, Buffer.from(auth.realm)), attr(A.NONCE, auth.nonce)]);
	const head = Buffer.alloc(20);
	head.writeUInt16BE(0x0003, 0);
	head.writeUInt32BE(MAGIC, 4);
	tid.copy(head, 8);
	if (!auth) {
		head.writeUInt16BE(body.length, 2);
		return Buffer.concat([head, body]);
	}
	head.writeUInt16BE(body.length + 24, 2);
	const key = crypto.createHash('md5').update(`${USER}:${auth.realm}:${PASS}`).digest();
	const mac = crypto.createHmac('sha1', key).update(Buffer.concat([head, body])).digest();
	return Buffer.concat([head, body, attr(A.MI, mac)]);
}

function parse(b) {
	const m = { type: b.readUInt16BE(0), attrs: new Map() };
	for (let p = 20; p + 4 <= b.length;) {
		const t = b.readUInt16BE(p), n = b.readUInt16BE(p + 2);
		m.attrs.set(t, b.subarray(p + 4, p + 4 + n));
		p += 4 + n + ((4 - (n % 4)) % 4);
	}
	const e = m.attrs.get(A.ERROR);
	if (e)
		m.code = e[2] * 100 + e[3];
	return m;
}

function exchange(sock, port, msg, host = '127.0.0.1') {
	return new Promise((res, rej) => {
		const t = setTimeout(() => { sock.removeAllListeners('message'); rej(new Error('no answer in 3 s')); }, 3000);
		sock.once('message', (b) => { clearTimeout(t); res(parse(b)); });
		sock.send(msg, port, host);
	});
}

// Allocate with the 401 round; returns the final answer (socket stays open).
async function rawAllocate(sock, port) {
	const first = await exchange(sock, port, allocate(null));
	if (first.code !== 401)
		return first;
	return exchange(sock, port, allocate({ realm: first.attrs.get(A.REALM).toString(),
		nonce: first.attrs.get(A.NONCE) }));
}

function plainAddr(v) {
	return v ? `${[...v.subarray(4, 8)].join('.')}:${v.readUInt16BE(2)}` : null;
}

function sessions(ctl, sock) {
	return new Promise((res) => {
		execFile(ctl, ['-s', sock, '--json', 'sessions'], { timeout: 5000 }, (err, stdout) => {
			try {
				res(err ? [] : JSON.parse(stdout).sessions || []);
			} catch {
				res([]);
			}
		});
	});
}

async function main() {
	const [binary, ctl] = process.argv.slice(2);
	if (!binary || !ctl || !fs.existsSync(binary) || !fs.existsSync(ctl)) {
		log('usage: node alternate.mjs TURNPIKE-BINARY TURNPIKECTL');
		process.exit(2);
	}
	if (!fs.existsSync(CHROMIUM)) {
		log(`SKIP: ${CHROMIUM} not installed (apt-get install chromium)`);
		process.exit(77);
	}
	if (!ALT || ALT.startsWith('127.')) {
		log('usage: TP_ALT_ADDR=A.B.C.D (not loopback: libwebrtc will not follow a 300 there) ' +
			'node alternate.mjs ...; alternate.sh sets it up');
		process.exit(2);
	}
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-browser-alt-'));
	const sock1 = path.join(dir, 'admin1.sock'), sock2 = path.join(dir, 'admin2.sock');
	const nodes = [];
	let ctx = null, http = null, filler = null, probe = null;
	try {
		const n2 = await startServer(binary, dir, { name: 'node2', listeners: { udp: 'udp' }, host: ALT,
			extra: [`admin = "unix:${sock2}";`] });
		nodes.push(n2);
		let n1;
		for (let i = 0; i < 5; i++) {	// the two relay ranges must not overlap
			n1 = await startServer(binary, dir, { name: 'node1', listeners: { udp: 'udp' },
				extra: [`admin = "unix:${sock1}";`, 'total-quota = 1;',
					`alternate-server = [ "${ALT}:${n2.ports.udp}" ];`] });
			if (n1.minPort !== n2.minPort)
				break;
			await stopServer(n1);
			n1 = null;
		}
		nodes.push(n1);
		const alt = `${ALT}:${n2.ports.udp}`;
		log(`node 1 udp ${n1.ports.udp} relay ${n1.minPort}-${n1.maxPort}, total-quota 1, ` +
			`alternate ${alt}; node 2 udp ${n2.ports.udp} relay ${n2.minPort}-${n2.maxPort}`);
		const inN2 = (port) => port >= n2.minPort && port <= n2.maxPort;

		filler = dgram.createSocket('udp4');
		await new Promise((r) => filler.bind(0, '127.0.0.1', r));
		const f = await rawAllocate(filler, n1.ports.udp);
		check(f.type === 0x0103, `the raw Allocate takes node 1's one allocation (type 0x${f.type.toString(16)} ${f.code || ''})`);
		probe = dgram.createSocket('udp4');
		await new Promise((r) => probe.bind(0, '127.0.0.1', r));
		const p = await rawAllocate(probe, n1.ports.udp);
		check(p.code === 300 && plainAddr(p.attrs.get(A.ALTERNATE)) === alt,
			`a second raw Allocate gets 300 with ALTERNATE-SERVER ${alt} ` +
			`(${p.code} ${plainAddr(p.attrs.get(A.ALTERNATE))})`);

		http = await servePage();
		ctx = await launchBrowser(path.join(dir, 'profile'));
		const page = ctx.pages()[0] || await ctx.newPage();
		await page.goto(`http://127.0.0.1:${http.address().port}/`);
		const url = `turn:127.0.0.1:${n1.ports.udp}?transport=udp`;
		const seen1 = new Map(), seen2 = new Map();
		let done = false;
		const evaluated = page.evaluate(pageTest, { url, user: USER, pass: PASS, holdMs: 1500 })
			.finally(() => { done = true; });
		for (let i = 0; !done && i < 600; i++) {	// bounded: the page gives up within 45 s
			const [l1, l2] = await Promise.all([sessions(ctl, sock1), sessions(ctl, sock2)]);
			for (const s of l1)
				seen1.set(s.id, s);
			for (const s of l2)
				seen2.set(s.id, s);
			await new Promise((r) => setTimeout(r, 50));
		}
		const r = await evaluated;
		log(`${url}: ${JSON.stringify(r)}`);
		if (r.errors && r.errors.length)
			log('icecandidateerror events:', JSON.stringify(r.errors));
		const relays = (r.cands.a.concat(r.cands.b)).filter((c) => / typ relay /.test(c));
		log('relay candidates:', JSON.stringify(relays));
		const log2 = n2.readLog();
		const stale = (log2.match(/ALLOCATE: 438 Stale Nonce[^\n]*/g) || []);
		const on2 = [...seen2.values()];
		log('node 2 sessions:', JSON.stringify(on2.map((s) => ({ client: s.client, relay: s.relay }))));
		check(stale.length === 0, `node 2 answered no Allocate 438 (${stale.length})`);
		check(relays.length > 0 && relays.every((c) => c.split(' ')[4] === ALT &&
			inN2(Number(c.split(' ')[5]))),
			`every relay candidate is on node 2, ${ALT} ${n2.minPort}-${n2.maxPort} ` +
			`(${relays.map((c) => c.split(' ').slice(4, 6).join(':')).join(', ')})`);
		if (checkFlow(r, url))
			for (const [side, sel] of [['a', r.selA], ['b', r.selB]])
				check(sel && sel.local.type === 'relay' && sel.local.relayProtocol === 'udp' &&
					sel.local.address === ALT && inN2(sel.local.port) && sel.remote.type === 'relay' &&
					inN2(sel.remote.port),
					`peer ${side}'s selected pair is relay to relay on node 2 ` +
					`(${sel ? `${sel.local.type}/${sel.local.relayProtocol} :${sel.local.port} -> ` +
					`${sel.remote.type} :${sel.remote.port}` : 'no selected pair'})`);
		check(on2.length === 2 && on2.every((s) => s.user === USER && s.transport === 'udp' &&
			s.relay.every((a) => inN2(Number(a.split(':').pop())))),
			`node 2 lists both of Chromium's allocations (${on2.length})`);
		check(seen1.size === 1, `node 1 lists only the raw allocation (${seen1.size})`);
		const redirects = (n1.readLog().match(/ALLOCATE: 300 Try Alternate [0-9.]+:\d+/g) || [])
			.filter((l) => l.endsWith(alt));
		check(redirects.length >= 3, `node 1 logged 300 Try Alternate ${alt} for the raw ` +
			`probe and each peer (${redirects.length})`);
	} finally {
		for (const s of [filler, probe])
			if (s)
				s.close();
		if (ctx)
			await ctx.close().catch(() => {});
		if (http)
			http.close();
		for (const [i, n] of nodes.entries()) {
			if (!n)
				continue;
			const { clean, text } = await stopServer(n);
			if (failed() || !clean)
				log(`---- node ${2 - i} log (last 40 lines) ----\n` + text.split('\n').slice(-40).join('\n'));
		}
		fs.rmSync(dir, { recursive: true, force: true });
	}
	log(failed() ? `FAIL: ${failed()} check(s) failed` : 'PASS');
	process.exit(failed() ? 1 : 0);
}

run(main);
