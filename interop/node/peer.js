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
//            "close:CODE"; code 1005 sends an empty close frame
//   ping:    (client) base64 payload of a ping to send (and check the pong
//            of) before the first message
//   frag:    (server) echo messages as frames of this size (0: whole)
//   protocols: subprotocols: the client offers them in this order; the
//            server selects the first of them the client offered
//
// Case fields: size, binary, frags (above); kind: the payload's kind, ""
// for the default or one of json, html, faust, bmp, pdf (see source);
// autofrag: with permessage-deflate negotiated, send the message
// compressed in one go (a fresh raw deflate, the 00 00 ff ff tail removed)
// with its compressed payload split into frames of this many bytes (0: one
// frame), RSV1 on the first only, as Autobahn's groups 12 and 13 do.
// Without it, ws's own send. The server does the same for its echoes when
// its URL has "?autofrag=N" (N > 0).
//
// Echo server convention (shared with the Go peers): a text message
// "close:CODE" makes the server start the close handshake with CODE and the
// reason "server bye"; every other message is echoed with its type.
'use strict';
const zlib = require('zlib');
const { WebSocket, WebSocketServer, Sender } = require('ws');

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

function xorshift(seed) {
  let x = (seed * 2654435761 + 1) >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

// source returns 256 KiB of one kind of content, after Autobahn's test
// files: JSON and HTML (ASCII text), German prose (UTF-8, sent as binary),
// a low-entropy picture and a high-entropy document (binary).
const sourceSize = 256 << 10;
const sources = {};
function source(kind) {
  if (sources[kind]) return sources[kind];
  const parts = [];
  let n = 0;
  const add = (s) => { const b = Buffer.from(s, 'utf8'); parts.push(b); n += b.length; };
  const rnd = xorshift(42);
  if (kind === 'json') {
    add('[');
    for (let i = 0; n < sourceSize; i++) {
      add(`{"id":${i},"name":"user-${i}","email":"user${i}@example.org","tags":["alpha","beta","gamma"],"score":${(i * 7919) % 1000},"active":${i % 3 === 0}},\n`);
    }
  } else if (kind === 'html') {
    for (let i = 0; n < sourceSize; i++) {
      add(`<li class="item"><a href="/items/${i}">Item ${i}</a> <span class="price">${(i * 37) % 500}.99</span></li>\n`);
    }
  } else if (kind === 'faust') {
    const words = ['Habe', 'nun', 'ach', 'Philosophie', 'Juristerei', 'und', 'Medizin', 'Theologie',
      'durchaus', 'studiert', 'mit', 'heißem', 'Bemühn', 'Da', 'steh', 'ich', 'armer', 'Tor',
      'bin', 'so', 'klug', 'als', 'wie', 'zuvor', 'Größe', 'Übermut', 'schön', 'Straße', 'Gespräch'];
    for (let i = 1; n < sourceSize; i++) add(words[rnd() % words.length] + (i % 12 === 0 ? '.\n' : ' '));
  } else if (kind === 'bmp') {
    const b = Buffer.alloc(sourceSize);
    for (let i = 0; i < sourceSize; i++) { const p = i / 3 | 0; const x = p & 255, y = p >> 8; b[i] = [x ^ y, x, y][i % 3]; }
    parts.push(b); n = sourceSize;
  } else if (kind === 'pdf') {
    for (let i = 0; n < sourceSize; i++) {
      add(`${i} 0 obj\n<< /Length 1024 /Filter /FlateDecode >>\nstream\n`);
      const b = Buffer.alloc(1024);
      for (let k = 0; k < b.length; k++) b[k] = rnd() & 0xff;
      parts.push(b); n += b.length;
      add('\nendstream\nendobj\n');
    }
  } else throw new Error('unknown payload kind ' + kind);
  return (sources[kind] = Buffer.concat(parts).subarray(0, sourceSize));
}

// message i of a run: of a kind, a window of its source (wrapping around).
function message(c, i) {
  if (!c.kind) return payload(c.size, c.binary, i);
  const src = source(c.kind);
  const b = Buffer.allocUnsafe(c.size);
  const start = (i * 7919 * 31) % src.length;
  for (let k = 0; k < c.size; k++) b[k] = src[(start + k) % src.length];
  return b;
}

// sendCompressed sends data as one compressed message whose payload is cut
// into frames of autofrag bytes (see the options above).
function sendCompressed(ws, data, binary, autofrag, isClient) {
  const pmd = ws._extensions['permessage-deflate'];
  const bits = pmd.params[(isClient ? 'client' : 'server') + '_max_window_bits'];
  const z = zlib.deflateRawSync(data, {
    windowBits: typeof bits === 'number' ? bits : 15,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  if (z.length < 4 || z.readUInt32BE(z.length - 4) !== 0x0000ffff) throw new Error('deflate output lacks its sync-flush tail');
  const c = z.subarray(0, z.length - 4);
  const frames = [];
  let off = 0;
  do {
    const n = Math.min(autofrag, c.length - off);
    const first = off === 0;
    const part = Buffer.from(c.subarray(off, off + n));
    off += n;
    frames.push(...Sender.frame(part, {
      fin: off >= c.length, rsv1: first, opcode: first ? (binary ? 2 : 1) : 0, mask: isClient, readOnly: false,
    }));
  } while (off < c.length);
  ws._socket.write(Buffer.concat(frames));
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
    // The first of the server's subprotocols (opts.protocols, most
    // preferred first) that the client offered; none if none.
    handleProtocols: (offered) => (opts.protocols || []).find((p) => offered.has(p)) || false,
  });
  wss.on('listening', () => out({ event: 'listening', port: wss.address().port }));
  let response = '';
  wss.on('headers', (headers) => {
    const h = headers.find((l) => l.toLowerCase().startsWith('sec-websocket-extensions:'));
    response = h ? h.slice(h.indexOf(':') + 1).trim() : '';
  });
  wss.on('connection', (ws, req) => {
    const offer = req.headers['sec-websocket-extensions'] || '';
    out({ event: 'open', offer, extensions: response, protocol: ws.protocol });
    const autofrag = Number(new URL(req.url, 'http://x').searchParams.get('autofrag') || 0);
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.length < 16 && data.toString().startsWith('close:')) {
        ws.close(Number(data.toString().slice(6)), 'server bye');
        return;
      }
      if (autofrag > 0 && ws._extensions['permessage-deflate']) {
        sendCompressed(ws, data, isBinary, autofrag, false);
      } else if (opts.frag > 0 && data.length > opts.frag) {
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
  if (opts.offer) {
    // ws writes its own offer; replace it just before the request goes.
    wsOpts.finishRequest = (req) => { req.setHeader('Sec-WebSocket-Extensions', opts.offer); req.end(); };
  }
  const ws = new WebSocket(url, opts.protocols || [], wsOpts);
  let response = '';
  ws.on('upgrade', (res) => { response = res.headers['sec-websocket-extensions'] || ''; });
  const cases = opts.cases || [];
  let i = 0;
  let sent = null;
  function next() {
    if (i === cases.length) {
      if (opts.close.by === 'client' && opts.close.code === 1005) ws.close(); // an empty close frame
      else if (opts.close.by === 'client') ws.close(opts.close.code, 'client bye');
      else ws.send('close:' + opts.close.code);
      return;
    }
    const c = cases[i];
    sent = message(c, i);
    if (c.autofrag != null && ws._extensions['permessage-deflate']) sendCompressed(ws, sent, c.binary, c.autofrag || Infinity, true);
    else sendMessage(ws, sent, c.binary, c.frags);
  }
  ws.on('open', () => {
    out({ event: 'open', extensions: response, protocol: ws.protocol });
    if (opts.ping) ws.ping(Buffer.from(opts.ping, 'base64'));
    else next();
  });
  ws.on('pong', (data) => {
    out({ event: 'pong', ok: data.equals(Buffer.from(opts.ping, 'base64')) });
    next();
  });
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
