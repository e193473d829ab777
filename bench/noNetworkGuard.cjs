// Preloaded (`node --require`) by bench/coldstart.ts before a bundled handler is imported: every
// way a module could reach the network — a TCP or TLS connection, a DNS query, an HTTP request,
// fetch — is recorded in globalThis.__networkAttempts and refused with an error.
'use strict';
const net = require('node:net');
const tls = require('node:tls');
const dns = require('node:dns');
const http = require('node:http');
const https = require('node:https');

const attempts = [];
globalThis.__networkAttempts = attempts;

function refuse(what) {
  return function refused() {
    const target = [...arguments].slice(0, 2).map((argument) => (typeof argument === 'object' ? JSON.stringify(argument)?.slice(0, 120) : String(argument))).join(' ');
    attempts.push(`${what} ${target}`);
    throw new Error(`network I/O at import time: ${what} ${target}`);
  };
}

net.Socket.prototype.connect = refuse('net.Socket.connect');
net.connect = refuse('net.connect');
net.createConnection = refuse('net.createConnection');
tls.connect = refuse('tls.connect');
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveTxt', 'resolveSrv', 'reverse']) {
  dns[name] = refuse(`dns.${name}`);
  dns.promises[name] = refuse(`dns.promises.${name}`);
}
http.request = refuse('http.request');
http.get = refuse('http.get');
https.request = refuse('https.request');
https.get = refuse('https.get');
globalThis.fetch = refuse('fetch');
