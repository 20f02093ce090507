// A small HTTP server for the download tests, on 127.0.0.1 and a port the kernel picks, which it
// writes to PORT_FILE once it listens. It serves the files of DIR:
//   /NAME            the file, with its Content-Length
//   /truncate/NAME   the full Content-Length but half of the body, then the connection is cut
//                    (a transfer killed half-way, as the client sees it)
//   /slow/NAME       the file 4 KiB at a time, every 200 ms (a transfer to interrupt)
// Usage: node http-server.cjs DIR PORT_FILE
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const [dir, portFile] = process.argv.slice(2);
if (!dir || !portFile) {
  console.error('usage: node http-server.cjs DIR PORT_FILE');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  const match = /^\/(?:(truncate|slow)\/)?([A-Za-z0-9._-]+)$/.exec(new URL(req.url, 'http://x').pathname);
  const file = match && path.join(dir, match[2]);
  if (!file || !fs.existsSync(file)) {
    res.writeHead(404).end('not found\n');
    return;
  }
  const body = fs.readFileSync(file);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
  if (match[1] === 'truncate') {
    res.write(body.subarray(0, body.length >> 1), () => res.destroy());
  } else if (match[1] === 'slow') {
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent >= body.length) {
        clearInterval(timer);
        res.end();
        return;
      }
      res.write(body.subarray(sent, sent + 4096));
      sent += 4096;
    }, 200);
  } else {
    res.end(body);
  }
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(`${portFile}.new`, `${server.address().port}\n`);
  fs.renameSync(`${portFile}.new`, portFile);
});
