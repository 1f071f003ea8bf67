// A WebSocket peer on the Node `ws` package for lull's interop tests, driven
// by the Go tests in this directory. It prints one JSON object per line on
// standard output; the Go test reads them.
//
//   node peer.js server        echo server on 127.0.0.1, any port
//   node peer.js client URL    originates messages, checks the echoes
//
// Options come as one JSON object on standard input (a fragment list can
// exceed the limits of a command line):
//   deflate: false, or ws's perMessageDeflate object (threshold 0 is forced
//            so every message is compressed)
//   offer:   (client) the exact Sec-WebSocket-Extensions header to send, for
//            offers ws cannot produce itself (several offers, window bits)
//   cases:   (client) [{size, binary, frags: [n, n, ...]}]: frags, when
//            present, are the sizes of the frames the message is sent as
//   close:   (client) {by: "client"|"server", code}: who starts the close
//            handshake; "server" asks the echo server by sending the text
//            "close:CODE"
//   frag:    (server) echo messages as frames of this size (0: whole)
//
// Echo server convention (shared with the Go peers): a text message
// "close:CODE" makes the server start the close handshake with CODE and the
// reason "server bye"; every other message is echoed with its type.
'use strict';
const { WebSocket, WebSocketServer } = require('ws');

function out(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

function deflateOption(d) {
  if (!d) return false;
  return Object.assign({ threshold: 0 }, d);
}

// payload builds the deterministic message the Go side also builds (see
// payload_test.go): UTF-8 text of exactly size bytes cycling through code
// points of 1 to 4 bytes, or xorshift32 binary.
const cycle = Buffer.from('aé€😀', 'utf8'); // 1 + 2 + 3 + 4 bytes
function payload(size, binary, seed) {
  const b = Buffer.allocUnsafe(size);
  if (binary) {
    let x = (seed * 2654435761 + 1) >>> 0;
    for (let i = 0; i < size; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  }
  let i = 0;
  while (size - i >= cycle.length) { cycle.copy(b, i); i += cycle.length; }
  b.fill(0x7a, i); // 'z' for the rest: still valid UTF-8
  return b;
}

function sendMessage(ws, data, binary, frags) {
  if (!frags) { ws.send(data, { binary }); return; }
  let off = 0;
  frags.forEach((n, i) => {
    ws.send(data.subarray(off, off + n), { binary, fin: i === frags.length - 1 });
    off += n;
  });
}

function runServer(opts) {
  const wss = new WebSocketServer({
    host: '127.0.0.1', port: 0,
    perMessageDeflate: deflateOption(opts.deflate),
    maxPayload: 64 << 20,
    maxFragments: 0, // ws 8.23 defaults to 16384 fragments per message
  });
  wss.on('listening', () => out({ event: 'listening', port: wss.address().port }));
  wss.on('connection', (ws, req) => {
    out({ event: 'open', offer: req.headers['sec-websocket-extensions'] || '', extensions: ws.extensions });
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.length < 16 && data.toString().startsWith('close:')) {
        ws.close(Number(data.toString().slice(6)), 'server bye');
        return;
      }
      if (opts.frag > 0 && data.length > opts.frag) {
        const frags = [];
        for (let off = 0; off < data.length; off += opts.frag) frags.push(Math.min(opts.frag, data.length - off));
        sendMessage(ws, data, isBinary, frags);
      } else {
        ws.send(data, { binary: isBinary });
      }
    });
    ws.addEventListener('close', (ev) => out({ event: 'close', code: ev.code, reason: ev.reason, wasClean: ev.wasClean }));
    ws.on('error', (err) => out({ event: 'error', error: String(err) }));
  });
}

function runClient(url, opts) {
  const wsOpts = { perMessageDeflate: deflateOption(opts.deflate), maxPayload: 64 << 20 };
  if (opts.offer) wsOpts.headers = { 'Sec-WebSocket-Extensions': opts.offer };
  const ws = new WebSocket(url, wsOpts);
  const cases = opts.cases || [];
  let i = 0;
  let sent = null;
  function next() {
    if (i === cases.length) {
      if (opts.close.by === 'client') ws.close(opts.close.code, 'client bye');
      else ws.send('close:' + opts.close.code);
      return;
    }
    const c = cases[i];
    sent = payload(c.size, c.binary, i);
    sendMessage(ws, sent, c.binary, c.frags);
  }
  ws.on('open', () => { out({ event: 'open', extensions: ws.extensions }); next(); });
  ws.on('message', (data, isBinary) => {
    const c = cases[i];
    const res = { event: 'echo', index: i, size: c.size, binary: c.binary, ok: true };
    if (isBinary !== c.binary) { res.ok = false; res.error = 'echo has the other message type'; }
    else if (!data.equals(sent)) {
      res.ok = false;
      let at = 0;
      while (at < data.length && at < sent.length && data[at] === sent[at]) at++;
      res.error = `echo differs: ${data.length} bytes back for ${sent.length}, first difference at ${at}`;
    }
    out(res);
    i++;
    next();
  });
  ws.addEventListener('close', (ev) => {
    out({ event: 'close', code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
    process.exit(0);
  });
  ws.on('error', (err) => out({ event: 'error', error: String(err) }));
}

const [mode, url] = process.argv.slice(2);
const input = [];
process.stdin.on('data', (b) => input.push(b));
process.stdin.on('end', () => {
  const opts = JSON.parse(Buffer.concat(input).toString() || '{}');
  if (mode === 'server') runServer(opts);
  else if (mode === 'client') runClient(url, opts);
  else { console.error('usage: node peer.js server | client URL (options on standard input)'); process.exit(2); }
});
