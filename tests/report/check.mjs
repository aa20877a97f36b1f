// SPDX-License-Identifier: BSD-3-Clause
// check.mjs - open --report pages in headless Chromium and check them against
// the JSON of the same run (tests/report/run.sh).
//
//   node check.mjs OUTDIR dc JSON HTML [dc JSON HTML ...] probe JSON HTML
//
// For every page: it loads from file:// with JavaScript disabled and no
// request but the page itself, no console errors, no <script> but the JSON
// data block, that data block equal to the --json output and the same schema
// in <meta name="schema">. dc-client: the four lanes, one row per JSON event
// with the same kind, path and time (data-t-ms and the visible "N.N ms"), the
// selected pair, the phases, RTT and throughput as in the JSON. Probe: the
// verdict, the NAT picture (mapping, filtering, each test's addresses), each
// TURN row with its Allocate time, the relay RTT, the audit per address.
// A screenshot of each page goes to OUTDIR (NAME.png); with TP_REPORT_SHOTS
// set, the first dc-client page and the probe page are also written there as
// dc-client-report.png and probe-report.png, clipped and checked < 200 KB.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const CHROMIUM = process.env.TP_CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.TP_REPORT_SHOTS || '';
const MAX_SHOT = 200 * 1024;
let failures = 0;

function check(ok, what) {
	console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
	if (!ok)
		failures++;
	return ok;
}

const f1 = (x) => Number(x).toFixed(1);
const f2 = (x) => Number(x).toFixed(2);
const f3 = (x) => Number(x).toFixed(3);

// What every report must satisfy; returns the embedded JSON.
async function common(page, json, name) {
	const d = await page.evaluate(() => ({
		scripts: [...document.querySelectorAll('script')].map((s) => s.type),
		external: [...document.querySelectorAll('link[href], img[src], iframe, object, embed,' +
			' [style*="url("], image, use[href]')].length,
		data: document.getElementById('report-json')?.textContent ?? null,
		schema: document.querySelector('meta[name="schema"]')?.content ?? null,
		title: document.title,
	}));
	check(d.scripts.length === 1 && d.scripts[0] === 'application/json',
		`${name}: no script but the JSON data block (${JSON.stringify(d.scripts)})`);
	check(d.external === 0, `${name}: no external resource (link, img, url(), ...)`);
	let embedded = null;
	try {
		embedded = JSON.parse(d.data);
	} catch (e) {
		check(false, `${name}: the embedded JSON parses (${e.message})`);
		return null;
	}
	check(JSON.stringify(embedded) === JSON.stringify(json),
		`${name}: the embedded JSON is the --json output of the same run`);
	check(d.schema && d.schema === json.schema, `${name}: schema ${d.schema} in <meta> and JSON`);
	return embedded;
}

async function dcPage(page, j, name) {
	const d = await page.evaluate(() => {
		const lanes = {};
		for (const g of document.querySelectorAll('#sequence g.lane')) {
			const r = g.getBoundingClientRect();
			lanes[g.dataset.lane] = { text: g.textContent.trim(), w: r.width, h: r.height };
		}
		const ev = [...document.querySelectorAll('#sequence g.ev')].map((g) => ({
			kind: g.dataset.kind, t: g.dataset.tMs, path: g.dataset.path,
			shown: g.querySelector('text.t')?.textContent ?? '',
			visible: g.getBoundingClientRect().height > 0,
		}));
		const sel = document.getElementById('selected-pair');
		const phases = Object.fromEntries([...document.querySelectorAll('#phases g.phase')]
			.map((g) => [g.dataset.name, [g.dataset.t0Ms, g.dataset.t1Ms]]));
		const rtt = document.getElementById('rtt')?.dataset ?? {};
		const tput = document.getElementById('throughput')?.dataset ?? {};
		return {
			lanes, ev, phases, rtt: { ...rtt }, tput: { ...tput },
			sel: sel ? { local: sel.dataset.local, remote: sel.dataset.remote,
				text: sel.textContent } : null,
			selRow: document.querySelectorAll('#pairs tr.pair.sel').length,
			why: document.getElementById('why')?.textContent ?? '',
			result: document.getElementById('result')?.textContent ?? '',
		};
	});
	for (const l of j.lanes) {
		const got = d.lanes[l.id];
		check(got && got.w > 50 && got.h > 20 && got.text.length > 0,
			`${name}: lane ${l.id} drawn ("${got ? got.text.slice(0, 60) : 'missing'}")`);
	}
	check(Object.keys(d.lanes).length === 4 && j.lanes.length === 4, `${name}: four lanes`);
	check(d.ev.length === j.events.length && d.ev.length > 0,
		`${name}: one row per event (${d.ev.length} rows, ${j.events.length} events)`);
	let bad = 0;
	j.events.forEach((e, i) => {
		const r = d.ev[i];
		if (!r || r.kind !== e.kind || r.path !== e.path.join('>') || Number(r.t) !== e.t_ms ||
		    r.shown !== `${f1(e.t_ms)} ms` || !r.visible) {
			if (bad++ < 5)
				console.log(`  row ${i}: picture ${JSON.stringify(r)} json ${JSON.stringify(e)}`);
		}
	});
	check(bad === 0, `${name}: every row's kind, path and time (shown and data-t-ms) match the JSON`);
	for (const k of ['offer-sent', 'answer-received', 'candidate', 'check', 'check-answer',
		'selected-pair', 'dtls-done', 'sctp-up', 'dcep-open', 'channel-open', 'first-message',
		'server-request', 'server-answer']) {
		if (j.role === 'answer' && k === 'offer-sent') continue;
		if (j.role === 'answer' && k === 'answer-received') continue;
		check(d.ev.some((r) => r.kind === k), `${name}: the diagram has a ${k} event`);
	}
	const s = j.selected;
	check(d.sel && s && d.sel.local === s.local.addr && d.sel.remote === s.remote.addr &&
		d.sel.text.includes(s.local.addr) && d.sel.text.includes(s.remote.addr),
		`${name}: the selected pair ${s && s.local.addr} <-> ${s && s.remote.addr} is shown`);
	check(d.selRow === 1 && j.checks.filter((c) => c.selected).length === 1,
		`${name}: one pair row marked selected, as in the JSON's checks`);
	check(d.why === j.why && j.why.includes(' won: '), `${name}: why the path won: "${d.why.slice(0, 80)}..."`);
	const t = j.times_ms;
	const ph = (n, a, b) => check(d.phases[n] && Number(d.phases[n][0]) === a &&
		Number(d.phases[n][1]) === b, `${name}: phase ${n} ${a}-${b} ms as in times_ms`);
	ph('DTLS', t.dtls_start, t.dtls);
	ph('SCTP + DCEP', t.dtls, t.open);
	check(d.rtt.min === f3(j.rtt_ms.min) && d.rtt.avg === f3(j.rtt_ms.avg) &&
		d.rtt.p95 === f3(j.rtt_ms.p95), `${name}: RTT min/avg/p95 ${d.rtt.min}/${d.rtt.avg}/${d.rtt.p95} ms as in the JSON`);
	if (j.bulk)
		check(d.tput.mbitS === f2(j.bulk.mbit_s), `${name}: throughput ${d.tput.mbitS} Mbit/s as in the JSON`);
	check(d.result === (j.exit === 0 ? 'OK' : 'FAILED'), `${name}: result ${d.result}`);
}

async function probePage(page, j, name) {
	const d = await page.evaluate(() => {
		const nat = document.getElementById('nat');
		return {
			verdict: document.getElementById('verdict')?.dataset ?? {},
			verdictText: document.getElementById('verdict')?.textContent ?? '',
			nat: nat ? { mapping: nat.dataset.mapping, filtering: nat.dataset.filtering } : null,
			map: [...document.querySelectorAll('#nat g.map-test')].map((g) => ({ ...g.dataset })),
			filt: [...document.querySelectorAll('#nat g.filt-test')].map((g) => ({ ...g.dataset })),
			turn: [...document.querySelectorAll('#turn g.turn-row')].map((g) => ({ ...g.dataset,
				text: g.textContent })),
			relay: { ...(document.getElementById('relay-rtt')?.dataset ?? {}) },
			audit: document.getElementById('audit')?.dataset.verdict ?? null,
			cases: [...document.querySelectorAll('tr.audit-case')].map((r) => ({ ...r.dataset })),
		};
	});
	check(d.verdict.verdict === j.verdict && Number(d.verdict.exitCode) === j.exit_code &&
		d.verdictText === j.verdict_text, `${name}: verdict ${d.verdict.verdict} (exit ${d.verdict.exitCode}) as in the JSON`);
	check(d.nat && d.nat.mapping === j.nat.mapping.behavior &&
		d.nat.filtering === j.nat.filtering.behavior,
		`${name}: NAT picture: mapping ${d.nat && d.nat.mapping}, filtering ${d.nat && d.nat.filtering}`);
	check(d.map.length === 3 && d.map.every((m, i) =>
		(m.mapped || null) === j.nat.mapping[`test${i + 1}`]),
		`${name}: mapping tests I-III with the mapped addresses of the JSON`);
	const tri = (v) => (v === null ? 'null' : String(v));
	check(d.filt.length === 2 && d.filt[0].answered === tri(j.nat.filtering.test2_other_ip_port_answered) &&
		d.filt[1].answered === tri(j.nat.filtering.test3_other_port_answered),
		`${name}: filtering tests II and III as in the JSON`);
	check(d.turn.length === j.turn.length && j.turn.every((t, i) => {
		const r = d.turn[i];
		return r && r.transport === t.transport && Number(r.port) === t.port &&
			r.ok === String(t.ok) && (!t.ok || (Number(r.allocateMs) === t.allocate_ms &&
				r.text.includes(`${f3(t.allocate_ms)} ms`)));
	}), `${name}: every TURN transport and port, with its Allocate time, as in the JSON`);
	check(j.turn.some((t) => t.ok), `${name}: at least one transport relays`);
	if (j.relay.status === 'ok')
		check(d.relay.min === f3(j.relay.rtt_ms.min) && d.relay.avg === f3(j.relay.rtt_ms.avg) &&
			d.relay.p95 === f3(j.relay.rtt_ms.p95), `${name}: relay RTT ${d.relay.min}/${d.relay.avg}/${d.relay.p95} ms as in the JSON`);
	check(d.audit === j.audit.verdict, `${name}: audit verdict ${d.audit}`);
	check(d.cases.length === j.audit.checks.length && j.audit.checks.every((c, i) =>
		d.cases[i].peer === c.peer && d.cases[i].accepted === tri(c.accepted)),
		`${name}: the audit's answer for each of ${d.cases.length} addresses`);
}

async function main() {
	const [outdir, ...rest] = process.argv.slice(2);
	const jobs = [];
	for (let i = 0; i + 2 < rest.length; i += 3)
		jobs.push({ kind: rest[i], json: rest[i + 1], html: rest[i + 2] });
	if (!outdir || !jobs.length || jobs.some((x) => !['dc', 'probe'].includes(x.kind))) {
		console.log('usage: node check.mjs OUTDIR dc|probe JSON HTML ...');
		process.exit(2);
	}
	const { chromium } = await import('playwright-core');
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-report-'));
	const ctx = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		timeout: 30000,
		javaScriptEnabled: false,           // the page must read without scripts
		viewport: { width: 1180, height: 900 },
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--no-first-run',
			'--disable-features=Translate,MediaRouter,DialMediaRouteProvider,OptimizationHints'],
	});
	let firstDc = true;
	try {
		for (const job of jobs) {
			const name = path.basename(job.html);
			const json = JSON.parse(fs.readFileSync(job.json, 'utf8'));
			const page = await ctx.newPage();
			const errors = [];
			const url = pathToFileURL(path.resolve(job.html)).href;
			const requests = [];
			page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
			page.on('pageerror', (e) => errors.push(String(e)));
			page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
			await page.goto(url, { waitUntil: 'load' });
			check(errors.length === 0, `${name}: no console errors ${errors.length ? JSON.stringify(errors) : ''}`);
			check(requests.length === 0, `${name}: nothing fetched but the page ${requests.length ? JSON.stringify(requests) : ''}`);
			if (await common(page, json, name)) {
				if (job.kind === 'dc')
					await dcPage(page, json, name);
				else
					await probePage(page, json, name);
			}
			const shot = path.join(outdir, name.replace(/\.html$/, '.png'));
			await page.screenshot({ path: shot, fullPage: true });
			check(fs.statSync(shot).size > 10000, `${name}: screenshot ${shot} (${fs.statSync(shot).size} bytes)`);
			if (SHOTS && (job.kind === 'probe' || firstDc)) {
				const doc = path.join(SHOTS, job.kind === 'dc' ? 'dc-client-report.png' : 'probe-report.png');
				const h = await page.evaluate(() => document.documentElement.scrollHeight);
				await page.screenshot({ path: doc, fullPage: true, clip: { x: 0, y: 0, width: 1180,
					height: Math.min(h, job.kind === "dc" ? 1200 : 1180) } });
				check(fs.statSync(doc).size < MAX_SHOT, `${doc}: ${fs.statSync(doc).size} bytes (< 200 KB)`);
			}
			if (job.kind === 'dc')
				firstDc = false;
			await page.close();
		}
	} finally {
		await ctx.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
	console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
	process.exit(failures ? 1 : 0);
}

main().catch((e) => {
	console.log('FAIL', e && e.stack ? e.stack : e);
	process.exit(1);
});
