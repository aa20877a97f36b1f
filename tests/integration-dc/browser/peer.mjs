// SPDX-License-Identifier: BSD-3-Clause
// peer.mjs - headless Chromium as the other WebRTC peer of dc-client.
//
//   node peer.mjs offer|answer SIGNAL_URL TURN_HOST:PORT USER PASS
//
// The browser joins the signaling room, speaks the same JSON messages as
// dc-client, uses turnpike as its only ICE server (relay policy), and on the
// data channel answers "ping N" with "pong N", sends its own pings, counts
// bulk bytes and acknowledges them, and says "done" when its pings are back.
// Prints one JSON line; exit 0 when the channel opened and messages went both
// ways. Uses Debian's /usr/bin/chromium, never a downloaded browser.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [role, url, turn, user, pass] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'dc-chromium-'));
let ctx;
let code = 1;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('console', (m) => process.stderr.write(`browser: ${m.text()}\n`));
  const res = await page.evaluate(async ({ role, url, turn, user, pass }) => {
    const t0 = performance.now();
    const log = (s) => console.log(`${(performance.now() - t0).toFixed(1)} ms: ${s}`);
    const pc = new RTCPeerConnection({
      iceServers: [{ urls: `turn:${turn}?transport=udp`, username: user, credential: pass }],
      iceTransportPolicy: 'relay',
    });
    const ws = new WebSocket(url);
    const send = (o) => ws.send(JSON.stringify(o));
    const st = { open: false, pingsSent: 0, pongs: 0, pingsAnswered: 0, bulkBytes: 0,
      peerDone: false, myDone: false };
    let finish;
    const done = new Promise((r) => { finish = r; });
    const timer = setTimeout(() => finish('timeout'), 40000);
    const check = () => { if (st.myDone && st.peerDone) finish('ok'); };

    const useChannel = (dc) => {
      dc.binaryType = 'arraybuffer';
      dc.onopen = () => {
        st.open = true;
        log(`channel "${dc.label}" open`);
        const n = 5;
        let i = 0;
        const iv = setInterval(() => {
          if (i >= n) { clearInterval(iv); return; }
          dc.send(`ping ${i++}`);
          st.pingsSent++;
        }, 50);
      };
      dc.onmessage = (e) => {
        if (typeof e.data !== 'string') {
          st.bulkBytes += e.data.byteLength;
          if (st.bulkExpect && st.bulkBytes >= st.bulkExpect) {
            dc.send(`bulk-ok ${st.bulkBytes}`);
            st.bulkExpect = 0;
          }
          return;
        }
        const m = e.data;
        if (m.startsWith('ping ')) { dc.send('pong ' + m.slice(5)); st.pingsAnswered++; }
        else if (m.startsWith('pong ')) {
          st.pongs++;
          if (st.pongs === 5) { st.myDone = true; dc.send('done'); check(); }
        } else if (m.startsWith('bulk ')) { st.bulkExpect = Number(m.slice(5)); st.bulkBytes = 0; }
        else if (m === 'done') { st.peerDone = true; check(); }
      };
    };

    pc.onicecandidate = (e) => send({ type: 'candidate',
      candidate: e.candidate ? e.candidate.candidate : '', sdpMid: '0', sdpMLineIndex: 0 });
    pc.onconnectionstatechange = () => log(`connection ${pc.connectionState}`);
    pc.ondatachannel = (e) => useChannel(e.channel);
    ws.onmessage = async (e) => {
      const m = JSON.parse(e.data);
      try {
        if (m.type === 'offer' || m.type === 'answer') {
          await pc.setRemoteDescription({ type: m.type, sdp: m.sdp });
          log(`got ${m.type}`);
          if (m.type === 'offer') {
            await pc.setLocalDescription(await pc.createAnswer());
            send({ type: 'answer', sdp: pc.localDescription.sdp });
          }
        } else if (m.type === 'candidate') {
          await pc.addIceCandidate(m.candidate ? { candidate: m.candidate, sdpMid: '0',
            sdpMLineIndex: 0 } : null);
        }
      } catch (err) {
        log(`signaling error: ${err}`);
      }
    };
    await new Promise((r, j) => { ws.onopen = r; ws.onerror = () => j(new Error('ws')); });
    if (role === 'offer') {
      useChannel(pc.createDataChannel('browser'));
      await pc.setLocalDescription(await pc.createOffer());
      send({ type: 'offer', sdp: pc.localDescription.sdp });
    }
    const outcome = await done;
    clearTimeout(timer);
    let pair = null;
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        const l = stats.get(s.localCandidateId);
        pair = { local: l && l.candidateType, relayProtocol: l && l.relayProtocol };
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    pc.close();
    ws.close();
    return { outcome, ...st, pair };
  }, { role, url, turn, user, pass });
  console.log(JSON.stringify(res));
  code = res.outcome === 'ok' && res.open && res.pongs === 5 && res.pingsAnswered > 0 ? 0 : 1;
} catch (e) {
  console.log(JSON.stringify({ outcome: 'error', error: String(e) }));
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
