// SPDX-License-Identifier: BSD-3-Clause
// haproxy.mjs - headless Chromium relays through a real HAProxy to turnpike.
//
//   node haproxy.mjs TURNPIKE-BINARY TURNPIKECTL
//
// HAProxy (Debian's haproxy, TCP mode, as in tests/stream/test_haproxy.py)
// listens on 127.0.0.5 and connects to turnpike's `tls: ... proxy-protocol`
// listener on 127.0.0.1 with send-proxy-v2 from source 127.0.0.2, the only
// proxy-trusted address. Chromium's two relay-only peers use turns: through
// HAProxy's port: the data channel opens, messages flow, each side's selected
// pair is relay with relayProtocol tls, and while they run `turnpikectl
// sessions --json` shows the client's address and port as Chromium's own TCP
// connections to HAProxy have them (read with ss), never HAProxy's 127.0.0.2.
// Exit 0 pass, 1 fail, 77 skip.
import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
	CHROMIUM, USER, PASS, log, check, failed, freePort, startServer, stopServer,
	servePage, launchBrowser, pageTest, checkFlow, run,
} from './webrtc.mjs';

const FRONT = '127.0.0.5', HAPROXY_SRC = '127.0.0.2';

function which(cmd) {
	return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

async function startHaproxy(dir, fport, bport) {
	const cfg = path.join(dir, 'haproxy.cfg'), logPath = path.join(dir, 'haproxy.log');
	fs.writeFileSync(cfg, [
		'global', '  maxconn 200',
		'defaults', '  mode tcp', '  timeout connect 3s', '  timeout client 30s',
		'  timeout server 30s',
		'frontend f_tls', `  bind ${FRONT}:${fport}`, '  default_backend b_tls',
		'backend b_tls', `  server s 127.0.0.1:${bport} send-proxy-v2 source ${HAPROXY_SRC}`,
	].join('\n') + '\n');
	const out = fs.openSync(logPath, 'w');
	const proc = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', out, out] });
	const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
	for (let i = 0; i < 100; i++) {
		if (proc.exitCode !== null)
			throw new Error('haproxy exited at start:\n' + fs.readFileSync(logPath, 'utf8'));
		const up = await new Promise((res) => {
			const s = net.connect({ host: FRONT, port: fport }, () => { s.destroy(); res(true); });
			s.once('error', () => res(false));
		});
		if (up)
			return { proc, exited };
		await new Promise((r) => setTimeout(r, 100));
	}
	proc.kill('SIGKILL');
	throw new Error('haproxy did not listen within 10 s');
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

// The local ends of the TCP connections to HAProxy's front port: Chromium's.
function clientEnds(fport) {
	return new Promise((res) => {
		execFile('ss', ['-Htn', 'dst', `${FRONT}:${fport}`], { timeout: 5000 }, (err, stdout) => {
			if (err)
				return res([]);
			const ends = [];
			for (const line of stdout.split('\n')) {
				const f = line.trim().split(/\s+/);
				if (f.length >= 5 && f[4] === `${FRONT}:${fport}`)
					ends.push(f[3]);
			}
			res(ends);
		});
	});
}

async function main() {
	const [binary, ctl] = process.argv.slice(2);
	if (!binary || !ctl || !fs.existsSync(binary) || !fs.existsSync(ctl)) {
		log('usage: node haproxy.mjs TURNPIKE-BINARY TURNPIKECTL');
		process.exit(2);
	}
	for (const t of ['haproxy', 'ss'])
		if (!which(t)) {
			log(`SKIP: ${t} not installed`);
			process.exit(77);
		}
	if (!fs.existsSync(CHROMIUM)) {
		log(`SKIP: ${CHROMIUM} not installed (apt-get install chromium)`);
		process.exit(77);
	}
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-browser-haproxy-'));
	const sock = path.join(dir, 'admin.sock');
	let srv = null, hap = null, ctx = null, http = null;
	try {
		srv = await startServer(binary, dir, {
			listeners: { ps: 'tls proxy-protocol' },
			extra: [`proxy-trusted = [ "${HAPROXY_SRC}/32" ];`, `admin = "unix:${sock}";`],
		});
		const fport = await freePort();
		hap = await startHaproxy(dir, fport, srv.ports.ps);
		log(`turnpike tls proxy-protocol on 127.0.0.1:${srv.ports.ps}, haproxy on ` +
			`${FRONT}:${fport} (pid ${hap.proc.pid}) from ${HAPROXY_SRC}`);
		http = await servePage();
		ctx = await launchBrowser(path.join(dir, 'profile'));
		const page = ctx.pages()[0] || await ctx.newPage();
		await page.goto(`http://127.0.0.1:${http.address().port}/`);

		const url = `turns:${FRONT}:${fport}?transport=tcp`;
		const seen = new Map(), ends = new Set();
		let done = false;
		const t0 = Date.now();
		const evaluated = page.evaluate(pageTest, { url, user: USER, pass: PASS, holdMs: 1500 })
			.finally(() => { done = true; });
		// snapshot both sides while the page runs (bounded: the page times out in < 45 s)
		for (let i = 0; !done && i < 600; i++) {
			const [list, mine] = await Promise.all([sessions(ctl, sock), clientEnds(fport)]);
			for (const s of list)
				seen.set(s.id, s);
			for (const e of mine)
				ends.add(e);
			await new Promise((r) => setTimeout(r, 50));
		}
		const r = await evaluated;
		log(`${url}: ${JSON.stringify(r)} (${Date.now() - t0} ms)`);
		if (checkFlow(r, url))
			for (const [side, sel] of [['a', r.selA], ['b', r.selB]])
				check(sel && sel.local.type === 'relay' && sel.local.relayProtocol === 'tls' &&
					sel.local.address === '127.0.0.1' && sel.remote.type === 'relay',
					`${url}: peer ${side}'s selected pair is relay/tls to relay ` +
					`(${sel ? `${sel.local.type}/${sel.local.relayProtocol} ` +
					`${sel.local.address}:${sel.local.port} -> ${sel.remote.type}` : 'no selected pair'})`);
		const tls = [...seen.values()].filter((s) => s.transport === 'tls');
		log('sessions seen:', JSON.stringify(tls.map((s) => ({ client: s.client, server: s.server,
			relay: s.relay, user: s.user }))));
		log("Chromium's connections to HAProxy:", JSON.stringify([...ends]));
		check(tls.length === 2, `two tls sessions listed while the page ran (${tls.length})`);
		check(tls.every((s) => !s.client.startsWith(HAPROXY_SRC + ':')),
			`no session shows HAProxy's ${HAPROXY_SRC} as the client`);
		check(tls.length > 0 && tls.every((s) => ends.has(s.client)),
			"each session's client is one of Chromium's own connections to HAProxy " +
			`(${tls.map((s) => s.client).join(', ')})`);
		check(tls.every((s) => s.server === `127.0.0.1:${srv.ports.ps}`),
			'... on the tls proxy-protocol listener');
		const text = srv.readLog();
		const hdr = text.match(new RegExp(`proxy-protocol: v2 header from ${HAPROXY_SRC.replace(/\./g, '\\.')}` +
			':\\d+ \\[tls ([0-9.]+:\\d+)', 'g')) || [];
		check(hdr.length >= 2 && hdr.some((l) => [...ends].some((e) => l.endsWith(`[tls ${e}`))),
			`the log names Chromium's address behind HAProxy's v2 header (${hdr.length} lines)`);
		check(!new RegExp(`allocation created.*\\[tls ${HAPROXY_SRC.replace(/\./g, '\\.')}:`).test(text),
			"no allocation is logged under HAProxy's address");
		check(hap.proc.exitCode === null, 'haproxy still running');
	} finally {
		if (ctx)
			await ctx.close().catch(() => {});
		if (http)
			http.close();
		if (hap) {
			hap.proc.kill('SIGTERM');
			const t = setTimeout(() => hap.proc.kill('SIGKILL'), 5000);
			await hap.exited;
			clearTimeout(t);
		}
		if (srv) {
			const { clean, text } = await stopServer(srv);
			if (failed() || !clean)
				log('---- server log (last 60 lines) ----\n' + text.split('\n').slice(-60).join('\n'));
		}
		fs.rmSync(dir, { recursive: true, force: true });
	}
	log(failed() ? `FAIL: ${failed()} check(s) failed` : 'PASS');
	process.exit(failed() ? 1 : 0);
}

run(main);
