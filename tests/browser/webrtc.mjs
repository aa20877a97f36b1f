// SPDX-License-Identifier: BSD-3-Clause
// webrtc.mjs - a real browser relays WebRTC data channels through turnpike.
//
//   node webrtc.mjs TURNPIKE-BINARY
//   node webrtc.mjs --server HOST:UDP-PORT[:TCP-PORT]   (a server started elsewhere,
//                        e.g. in a NAT lab namespace: tests/netns/browser_pair.sh)
//
// Starts turnpike on 127.0.0.1 (udp:, tcp: and tls: listeners, a self-signed
// certificate made at test time with openssl), serves a blank page from a tiny
// HTTP server on 127.0.0.1, and drives Debian's /usr/bin/chromium (never a
// downloaded browser) headless through playwright-core. For each TURN URL the
// page makes two RTCPeerConnections with iceTransportPolicy 'relay' and only
// our server: the data channel must open, messages go both ways (and 100 x
// 16 KiB arrive intact), and getStats
// must show a selected pair whose local candidate is a relay candidate with the
// expected relayProtocol, on both sides. Each peer's only candidate is a relay
// address on the one server, so each allocation relays to the other's relay
// address: the server's default peer policy opens exactly that (the relay
// addresses are loopback, a special-purpose range). Exit 0 pass, 1 fail, 77 skip.
//
// The other browser tests (haproxy.mjs, alternate.mjs) import the harness from
// here: the server, the browser, the page and the checks; main() runs only when
// this file is the one node was started with.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.TP_CHROMIUM || '/usr/bin/chromium';
export const USER = 'alice', PASS = 'alicepw', REALM = 'test';
const SAN_MARKERS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'];

export const log = (...a) => console.log(...a);
let failures = 0;
export const failed = () => failures;
export function check(cond, what) {
	log(cond ? 'ok:' : 'FAILED:', what);
	if (!cond)
		failures++;
	return cond;
}

export async function freePort() {
	for (let i = 0; i < 50; i++) {
		const port = await new Promise((res, rej) => {
			const s = net.createServer();
			s.once('error', rej);
			s.listen(0, '127.0.0.1', () => {
				const p = s.address().port;
				s.close(() => res(p));
			});
		});
		const udpFree = await new Promise((res) => {
			const u = dgram.createSocket('udp4');
			u.once('error', () => res(false));
			u.bind(port, '127.0.0.1', () => u.close(() => res(true)));
		});
		if (udpFree)
			return port;
	}
	throw new Error('no free port');
}

export function makeCert(dir) {
	const cert = path.join(dir, 'server.crt'), key = path.join(dir, 'server.key');
	const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
		'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=turnpike-test',
		'-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
	if (r.status !== 0)
		throw new Error('openssl: ' + r.stderr);
	return { cert, key };
}

// turnpike on 127.0.0.1 (or host). listeners maps a name to "proto" or "proto flags"
// (e.g. "tls proxy-protocol"); extra is more config lines; name keeps two
// servers' files apart in one directory.
export async function startServer(binary, dir,
	{ listeners = { udp: 'udp', tcp: 'tcp', tls: 'tls' }, extra = [], name = 'turnpike',
		host = '127.0.0.1' } = {}) {
	const ports = {}, specs = [];
	for (const [n, spec] of Object.entries(listeners)) {
		const [proto, ...flags] = spec.split(' ');
		ports[n] = await freePort();
		specs.push(`"${proto}:${host}:${ports[n]}${flags.length ? ' ' + flags.join(' ') : ''}"`);
	}
	const { cert, key } = makeCert(dir);
	const base = 10000 + 100 * Math.floor(Math.random() * 90);
	const conf = path.join(dir, `${name}.conf`), logPath = path.join(dir, `${name}.log`);
	fs.writeFileSync(conf, [
		`listen = [ ${specs.join(', ')} ];`,
		`relay-ip = [ "${host}" ];`,
		`min-port = ${base}; max-port = ${base + 99};`,
		`realm = "${REALM}";`,
		'log-level = "debug";',
		`users = ( { name = "${USER}"; password = "${PASS}"; } );`,
		'demo-user = false;',
		'unauth-rate = 0;',
		// no allowed-peer: the default policy must open relay-to-relay
		'default-lifetime = 60; max-lifetime = 60;',
		`tls-cert = "${cert}"; tls-key = "${key}";`,
		...extra,
	].join('\n') + '\n');
	const out = fs.openSync(logPath, 'w');
	const env = { ...process.env };
	env.ASAN_OPTIONS ??= 'quarantine_size_mb=8';
	const proc = spawn(binary, ['-c', conf], { stdio: ['ignore', out, out], env });
	const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
	const readLog = () => fs.readFileSync(logPath, 'utf8');
	for (let i = 0; i < 300; i++) {
		if (proc.exitCode !== null)
			throw new Error('server exited at start:\n' + readLog());
		if (readLog().includes('listening on'))
			return { proc, ports, exited, readLog, minPort: base, maxPort: base + 99, dir };
		await new Promise((r) => setTimeout(r, 50));
	}
	proc.kill('SIGKILL');
	throw new Error('server did not start:\n' + readLog());
}

export async function stopServer(srv) {
	srv.proc.kill('SIGTERM');
	const t = setTimeout(() => srv.proc.kill('SIGKILL'), 15000);
	const { code, sig } = await srv.exited;
	clearTimeout(t);
	const text = srv.readLog();
	const clean = check(code === 0, `server exit status ${code}${sig ? ' signal ' + sig : ''}`) &
		check(!SAN_MARKERS.some((m) => text.includes(m)), 'no sanitizer report in the server log');
	return { clean: !!clean, text };
}

// Runs in the page: two relay-only peers, a data channel, messages both ways,
// the selected pairs from getStats; holdMs keeps both peers (and their
// allocations) up that long after the checks, for a test to look at the server.
export async function pageTest({ url, user, pass, holdMs = 0 }) {
	const cfg = { iceServers: [{ urls: [url], username: user, credential: pass }],
		iceTransportPolicy: 'relay' };
	const a = new RTCPeerConnection(cfg), b = new RTCPeerConnection(cfg);
	const cands = { a: [], b: [] };
	const errors = [];
	a.onicecandidate = (e) => { if (e.candidate) { cands.a.push(e.candidate.candidate); b.addIceCandidate(e.candidate); } };
	b.onicecandidate = (e) => { if (e.candidate) { cands.b.push(e.candidate.candidate); a.addIceCandidate(e.candidate); } };
	a.onicecandidateerror = (e) => errors.push(`a: ${e.errorCode} ${e.errorText} ${e.url}`);
	b.onicecandidateerror = (e) => errors.push(`b: ${e.errorCode} ${e.errorText} ${e.url}`);
	const timeout = (ms, what) => new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms));
	const dca = a.createDataChannel('turnpike');
	const atB = new Promise((res) => {
		b.ondatachannel = (e) => { e.channel.onmessage = (m) => res({ ch: e.channel, data: m.data }); };
	});
	const atA = new Promise((res) => { dca.onmessage = (m) => res(m.data); });
	const opened = new Promise((res) => { dca.onopen = res; });

	async function selected(pc) {
		const st = await pc.getStats();
		let pair = null;
		st.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = st.get(r.selectedCandidatePairId); });
		if (!pair)
			st.forEach((r) => { if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
		if (!pair)
			return null;
		const l = st.get(pair.localCandidateId), r = st.get(pair.remoteCandidateId);
		return { state: pair.state, local: { type: l.candidateType, relayProtocol: l.relayProtocol,
			address: l.address, port: l.port, url: l.url },
			remote: { type: r.candidateType, address: r.address, port: r.port } };
	}
	const t0 = performance.now();
	try {
		await a.setLocalDescription(await a.createOffer());
		await b.setRemoteDescription(a.localDescription);
		await b.setLocalDescription(await b.createAnswer());
		await a.setRemoteDescription(b.localDescription);
		await Promise.race([opened, timeout(15000, 'data channel open')]);
		const openMs = Math.round(performance.now() - t0);
		dca.send('ping from a');
		const { ch, data } = await Promise.race([atB, timeout(5000, 'message a->b')]);
		ch.send('pong from b');
		const back = await Promise.race([atA, timeout(5000, 'message b->a')]);
		// bulk: 100 messages of 16 KiB a->b, each stamped and checked at b
		const N = 100, SIZE = 16384;
		const bulk = new Promise((res) => {
			let n = 0, bad = 0;
			ch.onmessage = (m) => {
				const v = new Uint8Array(m.data);
				if (v.length !== SIZE || v[0] !== (n & 255) || v[SIZE - 1] !== ((n * 7) & 255))
					bad++;
				if (++n === N)
					res({ n, bad });
			};
		});
		ch.binaryType = 'arraybuffer';
		const tb = performance.now();
		for (let i = 0; i < N; i++) {
			const v = new Uint8Array(SIZE);
			v.fill(i & 255, 0, SIZE - 1);
			v[SIZE - 1] = (i * 7) & 255;
			while (dca.bufferedAmount > 1 << 20)
				await new Promise((r) => setTimeout(r, 5));
			dca.send(v);
		}
		const bulkRes = await Promise.race([bulk, timeout(20000, 'bulk a->b')]);
		bulkRes.ms = Math.round(performance.now() - tb);
		const res = { ok: true, openMs, gotB: data, gotA: back, bulk: bulkRes, selA: await selected(a),
			selB: await selected(b), cands, errors };
		if (holdMs)
			await new Promise((r) => setTimeout(r, holdMs));
		a.close();
		b.close();
		return res;
	} catch (e) {
		const res = { ok: false, error: String(e), iceA: a.iceConnectionState, iceB: b.iceConnectionState,
			selA: await selected(a), selB: await selected(b), cands, errors };
		a.close();
		b.close();
		return res;
	}
}

// A blank page on 127.0.0.1 for the browser to open (a secure-enough origin).
export async function servePage() {
	const http = createServer((req, res) => {
		res.writeHead(200, { 'content-type': 'text/html' });
		res.end('<!doctype html><title>turnpike</title><p>turnpike relay test</p>');
	});
	await new Promise((r) => http.listen(0, '127.0.0.1', r));
	return http;
}

// Debian's chromium, headless, with a fresh profile (flags: LAB-NOTES.md).
export async function launchBrowser(profile) {
	const { chromium } = await import('playwright-core');
	return chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		timeout: 30000,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--no-first-run', '--ignore-certificate-errors',
			// only the last --disable-features counts: keep them in one list
			'--disable-features=WebRtcHideLocalIpsWithMdns,Translate,MediaRouter,' +
			'DialMediaRouteProvider,OptimizationHints,CertificateTransparencyComponentUpdater'],
	});
}

// The checks on one pageTest result: open, messages, bulk; returns r.ok.
export function checkFlow(r, url) {
	if (!check(r.ok, `${url}: data channel opened${r.ok ? ` in ${r.openMs} ms` : ': ' + r.error}`))
		return false;
	check(r.gotB === 'ping from a' && r.gotA === 'pong from b', `${url}: messages both ways`);
	check(r.bulk && r.bulk.n === 100 && r.bulk.bad === 0,
		`${url}: 100 x 16 KiB arrived intact (${r.bulk && r.bulk.ms} ms)`);
	return true;
}

async function main() {
	const external = process.argv[2] === '--server' ? process.argv[3] : null;
	const binary = external ? null : process.argv[2];
	if (!external && (!binary || !fs.existsSync(binary))) {
		log('usage: node webrtc.mjs TURNPIKE-BINARY | --server HOST:UDP-PORT[:TCP-PORT]');
		process.exit(2);
	}
	if (!fs.existsSync(CHROMIUM)) {
		log(`SKIP: ${CHROMIUM} not installed (apt-get install chromium)`);
		process.exit(77);
	}
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-browser-'));
	const profile = path.join(dir, 'profile');
	let srv = null, host = '127.0.0.1', cases;
	if (external) {
		const [h, udp, tcp] = external.split(':');
		host = h;
		cases = [{ url: `turn:${h}:${udp}?transport=udp`, proto: 'udp' }];
		if (tcp)
			cases.push({ url: `turn:${h}:${tcp}?transport=tcp`, proto: 'tcp' });
	} else {
		srv = await startServer(binary, dir);
		log('server up:', JSON.stringify(srv.ports));
		cases = [
			{ url: `turn:127.0.0.1:${srv.ports.udp}?transport=udp`, proto: 'udp' },
			{ url: `turn:127.0.0.1:${srv.ports.tcp}?transport=tcp`, proto: 'tcp' },
			{ url: `turns:127.0.0.1:${srv.ports.tls}?transport=tcp`, proto: 'tls' },
			// plain TURN over TCP on the tls: listener (one port for both)
			{ url: `turn:127.0.0.1:${srv.ports.tls}?transport=tcp`, proto: 'tcp' },
		];
	}
	const http = await servePage();
	const pageUrl = `http://127.0.0.1:${http.address().port}/`;
	let ctx = null;
	try {
		ctx = await launchBrowser(profile);
		const page = ctx.pages()[0] || await ctx.newPage();
		await page.goto(pageUrl);
		for (const c of cases) {
			const r = await page.evaluate(pageTest, { url: c.url, user: USER, pass: PASS });
			log(`${c.url}: ${JSON.stringify(r)}`);
			if (!checkFlow(r, c.url))
				continue;
			for (const [side, sel] of [['a', r.selA], ['b', r.selB]]) {
				check(sel && sel.local.type === 'relay' && sel.local.relayProtocol === c.proto &&
					sel.local.address === host,
					`${c.url}: peer ${side}'s selected local candidate is relay/${c.proto} on ` +
					`${host} (${sel ? `${sel.local.type}/${sel.local.relayProtocol} ` +
					`${sel.local.address}:${sel.local.port}` : 'no selected pair'})`);
				check(sel && sel.remote.type === 'relay' && sel.remote.address === host,
					`${c.url}: peer ${side}'s selected remote candidate is relay on ${host} ` +
					`(${sel && sel.remote.type} ${sel && sel.remote.address})`);
			}
		}
	} finally {
		if (ctx)
			await ctx.close().catch(() => {});
		http.close();
		if (srv) {
			const { clean, text } = await stopServer(srv);
			if (failures || !clean)
				log('---- server log (last 80 lines) ----\n' +
					text.split('\n').slice(-80).join('\n'));
		}
		fs.rmSync(dir, { recursive: true, force: true });
	}
	log(failures ? `FAIL: ${failures} check(s) failed` : 'PASS');
	process.exit(failures ? 1 : 0);
}

export function run(fn) {
	fn().catch((e) => {
		log('FAIL:', e && e.stack ? e.stack : e);
		process.exit(1);
	});
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
	run(main);
