/**
 * IDX codec (lib/data/idx.ts), full-MNIST downloader (lib/data/download.ts) and loader
 * (lib/data/mnist-full.ts). The downloader is tested against a local HTTP server on 127.0.0.1 that serves
 * small generated IDX files and misbehaves on purpose; no other host is contacted.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as http from "http";
import * as zlib from "zlib";
import { AddressInfo, Socket } from "net";
import { createHash } from "crypto";
import { parseIdx, encodeIdx, readIdxFile, IdxFormatError } from "../lib/data/idx";
import {
  downloadIdxFile,
  ensureMnistFiles,
  checkMnistCache,
  dataCacheDir,
  DownloadError,
  DownloadProgress,
  IdxFileSpec,
  MnistFileSet,
  MNIST_FILES,
} from "../lib/data/download";
import { loadFullMnist } from "../lib/data/mnist-full";
import { classCounts } from "../lib/data/mnist";
import { Rng } from "../lib/random";

// ---------------------------------------------------------------------------------------------------------
// IDX reader
// ---------------------------------------------------------------------------------------------------------

test("parseIdx reads a hand-built big-endian int16 file and a uint8 file", () => {
  // magic 0x00000B02: int16, 2 dimensions; dims 2 × 3; values big-endian.
  const bytes = Uint8Array.from([0, 0, 0x0b, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 0, 2, 0xff, 0xfe, 1, 0, 0, 0, 0x7f, 0xff]);
  const a = parseIdx(bytes);
  assert.equal(a.dtype, "int16");
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual(Array.from(a.data), [1, 2, -2, 256, 0, 32767]);
  const u = parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 255]));
  assert.equal(u.dtype, "uint8");
  assert.deepEqual(Array.from(u.data), [7, 8, 255]);
});

test("encodeIdx → parseIdx round-trips every type, raw and gzipped", () => {
  const cases = [
    { dtype: "uint8" as const, data: Uint8Array.from([0, 1, 255, 128, 3, 4]) },
    { dtype: "int8" as const, data: Int8Array.from([-128, -1, 0, 1, 127, 5]) },
    { dtype: "int16" as const, data: Int16Array.from([-32768, -1, 0, 1, 32767, 5]) },
    { dtype: "int32" as const, data: Int32Array.from([-(2 ** 31), -1, 0, 1, 2 ** 31 - 1, 5]) },
    { dtype: "float32" as const, data: Float32Array.from([-1.5, 0, 1e-3, 3.25, 1e30, -7]) },
    { dtype: "float64" as const, data: Float64Array.from([-1.5, 0, 1e-300, Math.PI, 1e300, -7]) },
  ];
  for (const c of cases) {
    for (const gzip of [false, true]) {
      const buf = encodeIdx({ dtype: c.dtype, shape: [3, 2], data: c.data }, { gzip });
      assert.equal(buf[0] === 0x1f && buf[1] === 0x8b, gzip);
      const back = parseIdx(buf);
      assert.equal(back.dtype, c.dtype);
      assert.deepEqual(back.shape, [3, 2]);
      assert.deepEqual(Array.from(back.data), Array.from(c.data));
    }
  }
});

test("parseIdx rejects a wrong magic number, a wrong length, a bad gzip and unexpected shapes", () => {
  const good = encodeIdx({ dtype: "uint8", shape: [2, 2, 2], data: new Uint8Array(8) });
  const bad = Buffer.from(good);
  bad.writeUInt32BE(0x12345678, 0);
  assert.throws(() => parseIdx(bad, { source: "x.idx" }), (e: Error) =>
    e instanceof IdxFormatError && /x\.idx is not an IDX file: magic number 0x12345678/.test(e.message));
  assert.throws(() => parseIdx(good.subarray(0, good.length - 1)), /truncated: dimensions \[2, 2, 2\] of uint8 need 24 bytes, got 23/);
  assert.throws(() => parseIdx(Buffer.concat([good, Buffer.from([1])])), /has trailing bytes/);
  assert.throws(() => parseIdx(good.subarray(0, 10)), /header says 3 dimensions/);
  assert.throws(() => parseIdx(Uint8Array.from([0, 0])), /too short/);
  const gz = zlib.gzipSync(good);
  assert.throws(() => parseIdx(gz.subarray(0, gz.length - 6)), /gzip stream is truncated or corrupt/);
  assert.throws(() => parseIdx(good, { shape: [2, 28, 28] }), /dimensions \[2, 2, 2\], expected \[2, 28, 28\]/);
  assert.doesNotThrow(() => parseIdx(good, { shape: [null, 2, 2], dtype: "uint8" }));
  assert.throws(() => parseIdx(good, { dtype: "float32" }), /holds uint8 values, expected float32/);
});

// ---------------------------------------------------------------------------------------------------------
// Fixtures and the local server
// ---------------------------------------------------------------------------------------------------------

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function makeImages(n: number, seed: number): { images: Buffer; labels: Buffer; rawImages: Buffer; pixels: Uint8Array; lbls: Uint8Array } {
  const rng = new Rng(seed);
  const pixels = Uint8Array.from({ length: n * 784 }, () => (rng.random() < 0.2 ? rng.int(0, 256) : 0));
  const lbls = Uint8Array.from({ length: n }, (_, i) => i % 10);
  rng.shuffle(lbls as unknown as number[]);
  const rawImages = encodeIdx({ dtype: "uint8", shape: [n, 28, 28], data: pixels });
  return {
    images: zlib.gzipSync(rawImages),
    labels: encodeIdx({ dtype: "uint8", shape: [n], data: lbls }, { gzip: true }),
    rawImages,
    pixels,
    lbls,
  };
}

const TRAIN = makeImages(60, 1);
const TEST = makeImages(20, 2);
const CONTENT: Record<string, Buffer> = {
  "train-images-idx3-ubyte.gz": TRAIN.images,
  "train-labels-idx1-ubyte.gz": TRAIN.labels,
  "t10k-images-idx3-ubyte.gz": TEST.images,
  "t10k-labels-idx1-ubyte.gz": TEST.labels,
};
// An IDX file whose first bytes are not a magic number (its SHA-256 is right, so only the format check can catch it).
const BAD_MAGIC = (() => {
  const raw = Buffer.from(TEST.rawImages);
  raw.writeUInt32BE(0x00000000, 0);
  return zlib.gzipSync(raw);
})();

const spec = (name: string, body: Buffer, shape: number[], extra: Partial<IdxFileSpec> = {}): IdxFileSpec => ({
  name,
  sha256: sha(body),
  bytes: body.length,
  shape,
  ...extra,
});

const FILES: MnistFileSet = {
  trainImages: spec("train-images-idx3-ubyte.gz", TRAIN.images, [60, 28, 28], { rawSha256: sha(TRAIN.rawImages) }),
  trainLabels: spec("train-labels-idx1-ubyte.gz", TRAIN.labels, [60]),
  testImages: spec("t10k-images-idx3-ubyte.gz", TEST.images, [20, 28, 28]),
  testLabels: spec("t10k-labels-idx1-ubyte.gz", TEST.labels, [20]),
};
const TEST_IMAGES = FILES.testImages;

let server: http.Server;
let base = "";
let closedPort = 0;
const sockets = new Set<Socket>();
const hits: Record<string, number> = {};

before(async () => {
  server = http.createServer((req, res) => {
    const [, mode, name] = (req.url ?? "").split("/");
    hits[mode] = (hits[mode] ?? 0) + 1;
    const body = mode === "badmagic" ? BAD_MAGIC : CONTENT[name];
    if (!body || mode === "notfound") {
      res.writeHead(404, "Not Found").end("no such file");
      return;
    }
    switch (mode) {
      case "ok":
        res.writeHead(200, { "content-length": body.length }).end(body);
        return;
      case "badmagic":
        res.writeHead(200, { "content-length": body.length }).end(body);
        return;
      case "redirect":
        res.writeHead(302, { location: `/ok/${name}` }).end();
        return;
      case "corrupt": {
        const c = Buffer.from(body);
        c[Math.floor(c.length / 2)] ^= 0x40;
        res.writeHead(200, { "content-length": c.length }).end(c);
        return;
      }
      case "truncated":
        // Promises the whole file, sends half, then drops the connection.
        res.writeHead(200, { "content-length": body.length });
        res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
        return;
      case "short":
        // No length header: a clean end after half the file (only the size/checksum can tell).
        res.writeHead(200);
        res.end(body.subarray(0, body.length >> 1));
        return;
      case "stall":
        res.writeHead(200, { "content-length": body.length });
        res.write(body.subarray(0, 100)); // ...and nothing more
        return;
      case "flaky":
        if (hits.flaky % 2 === 1) res.writeHead(503, "Service Unavailable").end();
        else res.writeHead(200, { "content-length": body.length }).end(body);
        return;
      default:
        res.writeHead(404).end();
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A loopback port with nothing listening: what "offline" looks like to the downloader.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const tmpDirs: string[] = [];
function tmpCache(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-idx-"));
  tmpDirs.push(d);
  return d;
}
after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const quick = { retries: 0, backoffMs: 0, timeoutMs: 2000, progress: false as const, files: FILES };

/** Downloads one file through a misbehaving mirror; returns the error and checks nothing was left behind. */
async function failing(mode: string, extra: object = {}, file: IdxFileSpec = TEST_IMAGES): Promise<DownloadError> {
  const cacheDir = tmpCache();
  const err = await downloadIdxFile(file, { ...quick, cacheDir, mirrors: [`${base}/${mode}/`], ...extra }).then(
    () => assert.fail(`mode ${mode}: the download should have failed`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DownloadError, `mode ${mode}: ${String(err)}`);
  assert.deepEqual(fs.readdirSync(cacheDir), [], `mode ${mode} left files in the cache`);
  return err;
}

// ---------------------------------------------------------------------------------------------------------
// Downloader
// ---------------------------------------------------------------------------------------------------------

test("downloads, verifies and caches; a second call uses the cache; progress reaches the total", async () => {
  const cacheDir = tmpCache();
  const seen: DownloadProgress[] = [];
  const before = hits.ok ?? 0;
  const p = await downloadIdxFile(TEST_IMAGES, { ...quick, cacheDir, mirrors: [`${base}/ok/`], progress: (e) => seen.push(e) });
  assert.equal(p, path.join(cacheDir, TEST_IMAGES.name));
  assert.deepEqual(fs.readdirSync(cacheDir), [TEST_IMAGES.name]);
  assert.deepEqual(fs.readFileSync(p), TEST.images);
  const last = seen[seen.length - 1];
  assert.equal(last.received, TEST.images.length);
  assert.equal(last.total, TEST.images.length);
  await downloadIdxFile(TEST_IMAGES, { ...quick, cacheDir, mirrors: [`${base}/ok/`] });
  assert.equal(hits.ok, before + 1, "the cached file must not be downloaded again");
});

test("404: its own error, no file left", async () => {
  const e = await failing("notfound");
  assert.equal(e.kind, "http");
  assert.match(e.message, /HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+\/notfound\/t10k-images-idx3-ubyte\.gz/);
});

test("truncated body (connection dropped): its own error, no partial file", async () => {
  const e = await failing("truncated");
  assert.equal(e.kind, "truncated");
  assert.match(e.message, /closed after \d+ of \d+ bytes \(truncated download\)/);
});

test("short body with a clean end: caught by the expected size, no partial file", async () => {
  const e = await failing("short");
  assert.equal(e.kind, "truncated");
  assert.match(e.message, new RegExp(`sent ${TEST.images.length >> 1} bytes, expected ${TEST.images.length}`));
});

test("one corrupted byte: SHA-256 mismatch, no file left", async () => {
  const e = await failing("corrupt");
  assert.equal(e.kind, "checksum");
  assert.match(e.message, new RegExp(`SHA-256 mismatch .*expected ${TEST_IMAGES.sha256}, got [0-9a-f]{64}`));
});

test("wrong magic number: format error after the checksum, no file left", async () => {
  // The spec carries the bad file's own SHA-256, so only the IDX header check can reject it.
  const e = await failing("badmagic", {}, spec(TEST_IMAGES.name, BAD_MAGIC, [20, 28, 28]));
  assert.equal(e.kind, "format");
  assert.match(e.message, /badmagic\/t10k-images-idx3-ubyte\.gz is not an IDX file: magic number 0x00000000/);
});

test("stalled response: times out after timeoutMs, no partial file", async () => {
  const t0 = Date.now();
  const e = await failing("stall", { timeoutMs: 300 });
  const ms = Date.now() - t0;
  assert.equal(e.kind, "timeout");
  assert.match(e.message, /no data from .* for 300 ms \(timed out\)/);
  assert.ok(ms >= 250 && ms < 3000, `timeout after ${ms} ms`);
});

test("retries a transient failure on the same mirror, then succeeds", async () => {
  const cacheDir = tmpCache();
  hits.flaky = 0;
  await downloadIdxFile(TEST_IMAGES, { ...quick, cacheDir, retries: 1, mirrors: [`${base}/flaky/`] });
  assert.equal(hits.flaky, 2);
  assert.deepEqual(fs.readdirSync(cacheDir), [TEST_IMAGES.name]);
});

test("falls over to the next mirror, follows redirects, and does not retry a 404", async () => {
  const cacheDir = tmpCache();
  const before = hits.notfound ?? 0;
  await downloadIdxFile(TEST_IMAGES, { ...quick, retries: 3, cacheDir, mirrors: [`${base}/notfound/`, `${base}/redirect/`] });
  assert.equal(hits.notfound, before + 1, "a 404 is not worth a retry");
  assert.deepEqual(fs.readFileSync(path.join(cacheDir, TEST_IMAGES.name)), TEST.images);
});

test("every mirror failing differently: one error that lists each", async () => {
  const e = await failing("notfound", { mirrors: [`${base}/notfound/`, `${base}/corrupt/`] });
  assert.equal(e.kind, "failed");
  assert.match(e.message, /HTTP 404/);
  assert.match(e.message, /SHA-256 mismatch/);
});

test("a mirror that is not an http(s) URL is a clear error before anything is fetched", async () => {
  await assert.rejects(downloadIdxFile(TEST_IMAGES, { ...quick, cacheDir: tmpCache(), mirrors: ["ftp://x/"] }), /mirror "ftp:\/\/x\/" is not an http\(s\) URL/);
  await assert.rejects(downloadIdxFile(TEST_IMAGES, { ...quick, cacheDir: tmpCache(), mirrors: ["not a url"] }), /is not an http\(s\) URL/);
});

test("offline: fails fast with instructions to place the files by hand", async () => {
  const t0 = Date.now();
  const cacheDir = tmpCache();
  const err = await ensureMnistFiles({ ...quick, retries: 2, backoffMs: 1000, cacheDir, mirrors: [`http://127.0.0.1:${closedPort}/`] }).catch(
    (e: unknown) => e as DownloadError,
  );
  const ms = Date.now() - t0;
  assert.ok(err instanceof DownloadError);
  assert.equal(err.kind, "offline");
  assert.ok(ms < 1000, `offline failure took ${ms} ms (unreachable mirrors must not be retried)`);
  assert.match(err.message, /no mirror is reachable \(offline\?\)/);
  assert.match(err.message, new RegExp(`copy these files .* into ${cacheDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  assert.match(err.message, new RegExp(`train-images-idx3-ubyte\\.gz  sha256 ${FILES.trainImages.sha256}`));
  assert.match(err.message, /BACKPROP_DATA_DIR/);
  assert.match(err.message, /loadMnist\(\)/);
  assert.deepEqual(fs.readdirSync(cacheDir), []);
});

test("files placed by hand are verified: right ones are used offline, wrong ones are refused", async () => {
  const cacheDir = tmpCache();
  for (const [name, body] of Object.entries(CONTENT)) fs.writeFileSync(path.join(cacheDir, name), body);
  const offline = { ...quick, cacheDir, mirrors: [`http://127.0.0.1:${closedPort}/`] };
  const paths = await ensureMnistFiles(offline);
  assert.equal(paths.trainImages, path.join(cacheDir, "train-images-idx3-ubyte.gz"));
  assert.ok(checkMnistCache({ cacheDir, files: FILES }).every((s) => s.status === "ok"));

  // A gunzipped copy is accepted through its own checksum.
  const other = tmpCache();
  for (const [name, body] of Object.entries(CONTENT)) if (!name.startsWith("train-images")) fs.writeFileSync(path.join(other, name), body);
  fs.writeFileSync(path.join(other, "train-images-idx3-ubyte"), TRAIN.rawImages);
  const p2 = await ensureMnistFiles({ ...offline, cacheDir: other });
  assert.equal(p2.trainImages, path.join(other, "train-images-idx3-ubyte"));

  // A damaged copy is refused with what to do, and not touched.
  const bad = Buffer.from(TEST.labels);
  bad[bad.length - 9] ^= 1;
  fs.writeFileSync(path.join(cacheDir, "t10k-labels-idx1-ubyte.gz"), bad);
  await assert.rejects(ensureMnistFiles(offline), (e: unknown) =>
    e instanceof DownloadError && e.kind === "checksum" && /t10k-labels-idx1-ubyte\.gz has the wrong SHA-256 .* Delete it/.test(e.message));
  assert.deepEqual(fs.readFileSync(path.join(cacheDir, "t10k-labels-idx1-ubyte.gz")), bad);
  const status = checkMnistCache({ cacheDir, files: FILES });
  assert.deepEqual(status.map((s) => s.status), ["ok", "ok", "ok", "bad"]);
});

test("loadFullMnist: downloads the four files and returns verified, split data", async () => {
  const cacheDir = tmpCache();
  const d = await loadFullMnist({ ...quick, cacheDir, mirrors: [`${base}/ok/`], seed: 3, validation: 0.2 });
  assert.deepEqual(fs.readdirSync(cacheDir).sort(), Object.keys(CONTENT).sort());
  assert.deepEqual([d.train.n, d.validation.n, d.test.n], [48, 12, 20]);
  assert.deepEqual(d.train.shape, [28, 28]);
  for (const c of classCounts(d.validation)) assert.ok(c >= 1 && c <= 2, `validation class count ${c}`);
  assert.deepEqual(classCounts(d.test), new Array(10).fill(2));
  // Every test example is one of the fixture's, pixels scaled by 1/255, with its own label.
  const byKey = new Map<string, number>();
  for (let i = 0; i < 20; i++) byKey.set(Array.from(TEST.pixels.subarray(i * 784, (i + 1) * 784)).join(","), TEST.lbls[i]);
  for (let i = 0; i < d.test.n; i++) {
    const px = Array.from(d.test.x.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
    assert.equal(byKey.get(px.join(",")), d.test.labels[i]);
  }
  const again = await loadFullMnist({ ...quick, cacheDir, mirrors: [], seed: 3, validation: 0.2, trainLimit: 30, testLimit: 10 });
  assert.deepEqual([again.train.n, again.validation.n, again.test.n], [24, 6, 10]);
  await assert.rejects(loadFullMnist({ ...quick, cacheDir, trainLimit: 61 }), /trainLimit must be an integer between 1 and 60/);
});

test("the cache folder follows BACKPROP_DATA_DIR; the real MNIST specs are complete", async () => {
  const saved = process.env.BACKPROP_DATA_DIR;
  const dir = tmpCache();
  try {
    process.env.BACKPROP_DATA_DIR = dir;
    assert.equal(dataCacheDir(), dir);
    await downloadIdxFile(TEST_IMAGES, { ...quick, mirrors: [`${base}/ok/`] });
    assert.deepEqual(fs.readdirSync(path.join(dir, "mnist")), [TEST_IMAGES.name]);
    delete process.env.BACKPROP_DATA_DIR;
    assert.equal(dataCacheDir(), path.resolve(__dirname, "..", "data", "cache"));
  } finally {
    if (saved === undefined) delete process.env.BACKPROP_DATA_DIR;
    else process.env.BACKPROP_DATA_DIR = saved;
  }
  for (const f of Object.values(MNIST_FILES)) {
    assert.match(f.sha256, /^[0-9a-f]{64}$/);
    assert.match(f.rawSha256 ?? "", /^[0-9a-f]{64}$/);
    assert.equal(f.shape[0], f.name.startsWith("train") ? 60_000 : 10_000);
  }
  // The project's .gitignore keeps the default cache out of git.
  assert.match(fs.readFileSync(path.resolve(__dirname, "..", ".gitignore"), "utf8"), /^data\/cache\/$/m);
});

test("readIdxFile reads from disk with the same checks", () => {
  const dir = tmpCache();
  const f = path.join(dir, "a.idx.gz");
  fs.writeFileSync(f, TEST.labels);
  const a = readIdxFile(f, { dtype: "uint8", shape: [20] });
  assert.deepEqual(Array.from(a.data), Array.from(TEST.lbls));
  assert.throws(() => readIdxFile(f, { shape: [21] }), new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: dimensions \\[20\\], expected \\[21\\]`));
});
