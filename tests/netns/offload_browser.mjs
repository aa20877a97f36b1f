// SPDX-License-Identifier: BSD-3-Clause
// offload_browser.mjs - two headless Chromiums in two network namespaces open
// a WebRTC data channel through turnpike (offload_browser.sh builds the
// namespaces and checks the server's counters).
//
//   node offload_browser.mjs CLI_NS PEER_NS TMPDIR
//
// Each browser is Debian's /usr/bin/chromium started through
// `ip netns exec NS` (a wrapper script as playwright-core's executablePath;
// the control pipe passes through exec), so node drives both and carries the
// signaling itself: no signaling server. The client page allows only relay
// candidates from turn:198.51.100.1:3478?transport=udp; the peer page has no
// ICE server, so its only candidates are host candidates on 203.0.113.2.
// Checks: the data channel opens; the client's selected local candidate is
// relay/udp on 203.0.113.1 and its remote is the peer's host address; N
// messages each way arrive intact and in order. Prints "messages each way: N".
// Exit 0 pass, 1 fail.
import fs from 'node:fs';
import path from 'node:path';

const CHROMIUM = process.env.TP_CHROMIUM || '/usr/bin/chromium';
const TURN = 'turn:198.51.100.1:3478?transport=udp';
const RELAY_IP = '203.0.113.1', PEER_IP = '203.0.113.2';
const N = 300, SIZE = 1000;

const log = (...a) => console.log(...a);
let failures = 0;
function check(cond, what) {
	log(cond ? 'ok:' : 'FAILED:', what);
	if (!cond)
		failures++;
	return cond;
}

// In a page: one RTCPeerConnection with everything the test needs on window.
async function setup({ iceServers, policy }) {
	const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: policy });
	window.pc = pc;
	window.errors = [];
	pc.onicecandidateerror = (e) => window.errors.push(`${e.errorCode} ${e.errorText} ${e.url}`);
	window.gathered = () => new Promise((res) => {
		if (pc.iceGatheringState === 'complete')
			return res();
		pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') res(); };
		setTimeout(res, 8000);
	});
	// messages: i stamped at both ends, checked in order
	window.inbox = { n: 0, bad: 0 };
	window.onMessage = (m) => {
		const v = new Uint8Array(m.data);
		const i = window.inbox.n;
		if (v.length !== window.SIZE || v[0] !== (i & 255) || v[1] !== (i >> 8) ||
		    v[v.length - 1] !== ((i * 7) & 255))
			window.inbox.bad++;
		window.inbox.n++;
	};
	window.channel = new Promise((res) => {
		pc.ondatachannel = (e) => {
			e.channel.binaryType = 'arraybuffer';
			e.channel.onmessage = window.onMessage;
			e.channel.onopen = () => res(e.channel);
		};
	});
}

async function offer(size) {
	window.SIZE = size;
	const dc = window.pc.createDataChannel('turnpike');
	dc.binaryType = 'arraybuffer';
	dc.onmessage = window.onMessage;
	window.channel = new Promise((res) => { dc.onopen = () => res(dc); });
	await window.pc.setLocalDescription(await window.pc.createOffer());
	await window.gathered();
	return window.pc.localDescription.toJSON();
}

async function answer({ desc, size }) {
	window.SIZE = size;
	await window.pc.setRemoteDescription(desc);
	await window.pc.setLocalDescription(await window.pc.createAnswer());
	await window.gathered();
	return window.pc.localDescription.toJSON();
}

async function opened() {
	const t = new Promise((res) => setTimeout(() => res(null), 15000));
	const ch = await Promise.race([window.channel, t]);
	return ch ? true : `ice ${window.pc.iceConnectionState}, errors ${window.errors.join('; ')}`;
}

async function send({ n, size }) {
	const ch = await window.channel;
	for (let i = 0; i < n; i++) {
		const v = new Uint8Array(size);
		v.fill(i & 255);
		v[1] = i >> 8;
		v[size - 1] = (i * 7) & 255;
		while (ch.bufferedAmount > 1 << 18)
			await new Promise((r) => setTimeout(r, 5));
		ch.send(v);
	}
}

async function received({ n }) {
	const end = performance.now() + 15000;
	while (window.inbox.n < n && performance.now() < end)
		await new Promise((r) => setTimeout(r, 20));
	return window.inbox;
}

async function selected() {
	const st = await window.pc.getStats();
	let pair = null;
	st.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = st.get(r.selectedCandidatePairId); });
	if (!pair)
		return null;
	const l = st.get(pair.localCandidateId), r = st.get(pair.remoteCandidateId);
	return { local: { type: l.candidateType, relayProtocol: l.relayProtocol, address: l.address },
		remote: { type: r.candidateType, address: r.address } };
}

async function launch(chromium, ns, dir) {
	const wrap = path.join(dir, `chromium-${ns}`);
	fs.writeFileSync(wrap, `#!/bin/sh\nexec ip netns exec '${ns}' '${CHROMIUM}' "$@"\n`, { mode: 0o755 });
	const ctx = await chromium.launchPersistentContext(path.join(dir, `profile-${ns}`), {
		executablePath: wrap,
		headless: true,
		timeout: 30000,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--no-first-run',
			// only the last --disable-features counts: keep them in one list
			'--disable-features=WebRtcHideLocalIpsWithMdns,Translate,MediaRouter,' +
			'DialMediaRouteProvider,OptimizationHints,CertificateTransparencyComponentUpdater'],
	});
	const page = ctx.pages()[0] || await ctx.newPage();
	await page.goto('about:blank');
	return { ctx, page };
}

async function main() {
	const [cliNs, peerNs, dir] = process.argv.slice(2);
	if (!dir) {
		log('usage: node offload_browser.mjs CLI_NS PEER_NS TMPDIR');
		process.exit(2);
	}
	const { chromium } = await import(path.join(path.dirname(new URL(import.meta.url).pathname),
		'../browser/node_modules/playwright-core/index.mjs'));
	const browsers = [];
	try {
		const t0 = Date.now();
		const cli = await launch(chromium, cliNs, dir);
		browsers.push(cli);
		const peer = await launch(chromium, peerNs, dir);
		browsers.push(peer);
		await cli.page.evaluate(setup, { policy: 'relay',
			iceServers: [{ urls: [TURN], username: 'alice', credential: 'alicepw' }] });
		await peer.page.evaluate(setup, { policy: 'all', iceServers: [] });
		const o = await cli.page.evaluate(offer, SIZE);
		const a = await peer.page.evaluate(answer, { desc: o, size: SIZE });
		const hostOnly = a.sdp.split('\n').filter((l) => l.startsWith('a=candidate'));
		check(hostOnly.length > 0 && hostOnly.every((l) => / typ host/.test(l) && l.includes(PEER_IP)),
			`the peer offers host candidates on ${PEER_IP} only (${hostOnly.length})`);
		await cli.page.evaluate((d) => window.pc.setRemoteDescription(d), a);
		const [oc, op] = await Promise.all([cli.page.evaluate(opened), peer.page.evaluate(opened)]);
		if (!check(oc === true && op === true, `data channel open at both ends in ${Date.now() - t0} ms ` +
			`(client ${oc}, peer ${op})`))
			return;
		const sel = await cli.page.evaluate(selected);
		check(sel && sel.local.type === 'relay' && sel.local.relayProtocol === 'udp' &&
			sel.local.address === RELAY_IP && sel.remote.type === 'host' && sel.remote.address === PEER_IP,
			`client's pair: local relay/udp ${RELAY_IP}, remote host ${PEER_IP} (${JSON.stringify(sel)})`);
		const t1 = Date.now();
		await Promise.all([cli.page.evaluate(send, { n: N, size: SIZE }),
			peer.page.evaluate(send, { n: N, size: SIZE })]);
		const [rp, rc] = await Promise.all([peer.page.evaluate(received, { n: N }),
			cli.page.evaluate(received, { n: N })]);
		check(rp.n === N && rp.bad === 0, `client -> peer: ${rp.n}/${N} x ${SIZE} B, ${rp.bad} bad`);
		check(rc.n === N && rc.bad === 0, `peer -> client: ${rc.n}/${N} x ${SIZE} B, ${rc.bad} bad`);
		log(`(${Date.now() - t1} ms for the messages)`);
		log(`messages each way: ${N}`);
	} finally {
		for (const b of browsers)
			await b.ctx.close().catch(() => {});
	}
}

main().then(() => {
	log(failures ? `FAIL: ${failures} check(s) failed` : 'PASS');
	process.exit(failures ? 1 : 0);
}, (e) => {
	log('FAIL:', e && e.stack ? e.stack : e);
	process.exit(1);
});
