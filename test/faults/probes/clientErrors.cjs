/**
 * Diagnostics only (loaded with FAULTS_DEBUG through NODE_OPTIONS=--require): logs every outgoing
 * HTTP request that fails in this process — code, message, time, whether it went out on a reused
 * keep-alive socket — so a fault test's unexpected SUBGRAPH_UNAVAILABLE can be told apart (refused,
 * reset, timed out). It changes nothing else.
 */
'use strict';
const http = require('node:http');
const request = http.request;
http.request = function probedRequest(...args) {
  const req = request.apply(this, args);
  const started = Date.now();
  req.on('error', (error) => {
    process.stderr.write(`probe: ${req.method} ${req.host}:${req.socket?.remotePort ?? ''}${req.path} failed after ${Date.now() - started} ms `
      + `(reused socket: ${req.reusedSocket}): ${error.code ?? ''} ${error.message}\n`);
  });
  return req;
};
