// MD5 (RFC 1321) over ArrayBuffers fed in pieces, for the Content-MD5 of an upload: the
// browser's WebCrypto offers no MD5. Written for muster; MD5 is used here as a transfer
// checksum, never for security.
(function (global) {
  "use strict";
  var K = new Int32Array(64);
  for (var i = 0; i < 64; i++) { K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0; }
  // RFC 1321 §3.4: the per-round shift amounts.
  var S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

  function Md5() {
    this.h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.block = new Uint8Array(64);
    this.used = 0;
    this.bytes = 0;
    this.m = new Int32Array(16);
  }

  Md5.prototype.compress = function (b) {
    var m = this.m, h = this.h;
    for (var j = 0; j < 16; j++) {
      m[j] = b[j * 4] | (b[j * 4 + 1] << 8) | (b[j * 4 + 2] << 16) | (b[j * 4 + 3] << 24);
    }
    var a = h[0], bb = h[1], c = h[2], d = h[3];
    for (var i = 0; i < 64; i++) {
      var f, g, round = i >> 4;
      if (round === 0) { f = (bb & c) | (~bb & d); g = i; }
      else if (round === 1) { f = (d & bb) | (~d & c); g = (5 * i + 1) & 15; }
      else if (round === 2) { f = bb ^ c ^ d; g = (3 * i + 5) & 15; }
      else { f = c ^ (bb | ~d); g = (7 * i) & 15; }
      var s = S[round * 4 + (i & 3)];
      var x = (a + f + K[i] + m[g]) | 0;
      a = d; d = c; c = bb;
      bb = (bb + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  };

  /** Feeds the bytes of `buffer` (an ArrayBuffer or a Uint8Array). */
  Md5.prototype.append = function (buffer) {
    var data = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
    this.bytes += data.length;
    var k = 0;
    while (k < data.length) {
      var n = Math.min(64 - this.used, data.length - k);
      this.block.set(data.subarray(k, k + n), this.used);
      this.used += n;
      k += n;
      if (this.used === 64) { this.compress(this.block); this.used = 0; }
    }
    return this;
  };

  /** The 16-byte digest, as base64 (the form of a Content-MD5 header, RFC 1864). */
  Md5.prototype.base64 = function () {
    var bits = this.bytes * 8;
    var tail = new Uint8Array(((this.used < 56) ? 56 : 120) - this.used + 8);
    tail[0] = 0x80;
    var low = bits % 4294967296, high = Math.floor(bits / 4294967296);
    for (var i = 0; i < 4; i++) {
      tail[tail.length - 8 + i] = (low >>> (8 * i)) & 255;
      tail[tail.length - 4 + i] = (high >>> (8 * i)) & 255;
    }
    this.append(tail);
    var out = "";
    for (var w = 0; w < 4; w++) {
      for (var y = 0; y < 4; y++) { out += String.fromCharCode((this.h[w] >>> (8 * y)) & 255); }
    }
    return btoa(out);
  };

  global.MusterMd5 = Md5;
})(window);
