/**
 * The opt-in downloader of full MNIST's IDX files: a list of mirrors, each file's SHA-256, retries on
 * transient failures and fall-over to the next mirror.
 *
 * A download goes to a temporary file, is checked (size, SHA-256, IDX header and dimensions) and is renamed
 * into the cache only then. Offline it fails at once and says how to place the files by hand; files placed
 * by hand are checked against the same SHA-256 sums.
 *
 * Cache folder: `$BACKPROP_DATA_DIR/mnist` when the variable is set, else `data/cache/mnist` in the project
 * (git-ignored).
 */
import * as fs from "fs";
import * as path from "path";
import * as http from "http";
import * as https from "https";
import { createHash } from "crypto";
import { readIdxFile } from "./idx";

/** One IDX file to download: its name on the mirrors, its checksums and what it must contain. */
export interface IdxFileSpec {
  /** File name on every mirror and in the cache, e.g. "train-images-idx3-ubyte.gz". */
  name: string;
  /** SHA-256 (hex) of the file exactly as served. */
  sha256: string;
  /** Size in bytes as served, when known (checked before hashing). */
  bytes?: number;
  /** SHA-256 of the uncompressed file, for a copy placed by hand already gunzipped (name without ".gz"). */
  rawSha256?: string;
  /** Expected IDX dimensions, e.g. [60000, 28, 28]. */
  shape: number[];
}

/** The four files of full MNIST. */
export interface MnistFileSet {
  trainImages: IdxFileSpec;
  trainLabels: IdxFileSpec;
  testImages: IdxFileSpec;
  testLabels: IdxFileSpec;
}

/**
 * The published MNIST files. The SHA-256 sums of the .gz files are the ones the usual loaders pin
 * (torchvision's mirror list, the TensorFlow Haskell bindings' nix build, Guild AI's MNIST package all agree);
 * the sums of the uncompressed files are for copies placed by hand after gunzip.
 */
export const MNIST_FILES: MnistFileSet = {
  trainImages: {
    name: "train-images-idx3-ubyte.gz",
    bytes: 9_912_422,
    sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    rawSha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    shape: [60_000, 28, 28],
  },
  trainLabels: {
    name: "train-labels-idx1-ubyte.gz",
    bytes: 28_881,
    sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    rawSha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    shape: [60_000],
  },
  testImages: {
    name: "t10k-images-idx3-ubyte.gz",
    bytes: 1_648_877,
    sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    rawSha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    shape: [10_000, 28, 28],
  },
  testLabels: {
    name: "t10k-labels-idx1-ubyte.gz",
    bytes: 4_542,
    sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    rawSha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    shape: [10_000],
  },
};

/**
 * Mirrors tried in order (base URLs; the file name is appended). yann.lecun.com is left out: it now
 * answers with an authentication wall more often than with the files.
 */
export const MNIST_MIRRORS: readonly string[] = [
  "https://ossci-datasets.s3.amazonaws.com/mnist/",
  "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/** Name of the environment variable that moves the download cache. */
export const DATA_DIR_ENV = "BACKPROP_DATA_DIR";

/**
 * The download cache root: `$BACKPROP_DATA_DIR` when set, else `data/cache` in the project (git-ignored).
 * Full MNIST lives in its `mnist` subfolder.
 */
export function dataCacheDir(): string {
  const env = process.env[DATA_DIR_ENV];
  if (env && env.trim() !== "") return path.resolve(env.trim());
  const base = typeof __dirname === "string" ? path.resolve(__dirname, "..", "..") : process.cwd();
  return path.join(base, "data", "cache");
}

/** Why a download failed; `kind` tells the cases apart. */
export type DownloadErrorKind = "http" | "truncated" | "checksum" | "format" | "timeout" | "network" | "offline" | "failed";

/** A failed download or a cached file that does not verify. The message says what to do. */
export class DownloadError extends Error {
  constructor(
    readonly kind: DownloadErrorKind,
    message: string,
    readonly url?: string,
  ) {
    super(message);
    this.name = "DownloadError";
  }
}

/** Progress of one file: bytes so far and the total when the server says it. */
export interface DownloadProgress {
  file: string;
  url: string;
  received: number;
  total: number | undefined;
}

/** Options of the downloader (all optional). */
export interface DownloadOptions {
  /** Base URLs tried in order. Default `MNIST_MIRRORS`. */
  mirrors?: readonly string[];
  /** Cache folder for the files. Default `dataCacheDir()/mnist`. */
  cacheDir?: string;
  /** Extra attempts on the same mirror after a transient failure (timeout, cut connection, 5xx). Default 2. */
  retries?: number;
  /** Give up on a request when no byte arrives for this long (connecting included). Default 30 000 ms. */
  timeoutMs?: number;
  /** Pause before retry k is k × backoffMs. Default 1 000 ms. */
  backoffMs?: number;
  /** true (default): a line per quarter of each file on the console; false: silent; or your own callback. */
  progress?: boolean | ((p: DownloadProgress) => void);
  /** The files to fetch. Default `MNIST_FILES` (tests pass small fixtures). */
  files?: MnistFileSet;
}

function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function mnistDir(opts: DownloadOptions): string {
  return path.resolve(opts.cacheDir ?? path.join(dataCacheDir(), "mnist"));
}

function listFiles(files: MnistFileSet): IdxFileSpec[] {
  return [files.trainImages, files.trainLabels, files.testImages, files.testLabels];
}

/** How to get the files without the downloader; appended to every final download error. */
function manualHelp(dir: string, files: MnistFileSet): string {
  const lines = listFiles(files).map((f) => `  ${f.name}  sha256 ${f.sha256}`);
  return (
    `To use full MNIST without a download here, copy these files (from any MNIST mirror, e.g. ` +
    `${MNIST_MIRRORS[0]}) into ${dir} — gzipped as listed, or gunzipped without the .gz — and they will be ` +
    `checked against their SHA-256:\n${lines.join("\n")}\n` +
    `(${DATA_DIR_ENV}=<folder> moves the cache to <folder>/mnist.) ` +
    `The embedded 10 000-digit set needs no download: loadMnist().`
  );
}

const verified = new Map<string, string>();

/**
 * Checks a file already in the cache (downloaded or placed by hand). Returns its path when it verifies,
 * undefined when neither the gzipped nor the gunzipped name is there; throws when a file is there but its
 * SHA-256 is wrong.
 */
function cachedFile(dir: string, spec: IdxFileSpec): string | undefined {
  const candidates: [string, string | undefined][] = [[path.join(dir, spec.name), spec.sha256]];
  if (spec.name.endsWith(".gz")) candidates.push([path.join(dir, spec.name.slice(0, -3)), spec.rawSha256]);
  for (const [file, want] of candidates) {
    if (!fs.existsSync(file) || want === undefined) continue;
    const st = fs.statSync(file);
    const stamp = `${st.size}:${st.mtimeMs}`;
    if (verified.get(file) === stamp) return file;
    const got = sha256File(file);
    if (got !== want) {
      throw new DownloadError(
        "checksum",
        `${file} has the wrong SHA-256 (expected ${want}, got ${got}): it is damaged or not the original ` +
          `MNIST file. Delete it (the downloader will fetch it again) or replace it with the original.`,
      );
    }
    verified.set(file, stamp);
    return file;
  }
  return undefined;
}

interface Fetched {
  bytes: number;
  sha256: string;
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

const UNREACHABLE = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN"]);

/** One GET of `url` into `tmp`, following redirects; hashes while it writes. */
function fetchOnce(
  url: string,
  tmp: string,
  opts: { timeoutMs: number; onData: (received: number, total: number | undefined) => void },
  redirects = 0,
): Promise<Fetched> {
  return new Promise<Fetched>((resolve, reject) => {
    let done = false;
    let out: fs.WriteStream | undefined;
    let outClosed = false;
    // Settle only once the temporary file is closed, so the caller's clean-up cannot race its creation.
    const afterClose = (settle: () => void) => (!out || outClosed ? settle() : out.once("close", settle));
    const fail = (e: DownloadError) => {
      if (done) return;
      done = true;
      req.destroy();
      out?.destroy();
      afterClose(() => reject(e));
    };
    let client: typeof http | typeof https;
    try {
      client = new URL(url).protocol === "https:" ? https : http;
    } catch {
      reject(new DownloadError("network", `${url} is not a valid URL; check the mirror list`, url));
      return;
    }
    const req = client.get(url, { headers: { "accept-encoding": "identity" } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects < 5) {
        res.resume();
        done = true;
        const next = new URL(res.headers.location, url).toString();
        fetchOnce(next, tmp, opts, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        fail(new DownloadError("http", `HTTP ${status} ${res.statusMessage ?? ""} from ${url}`.trim(), url));
        return;
      }
      const lenHeader = res.headers["content-length"];
      const total = lenHeader !== undefined ? Number(lenHeader) : undefined;
      const hash = createHash("sha256");
      let received = 0;
      out = fs.createWriteStream(tmp);
      out.on("close", () => (outClosed = true));
      out.on("error", (e) => fail(new DownloadError("network", `cannot write ${tmp}: ${e.message}`, url)));
      res.on("data", (chunk: Buffer) => {
        received += chunk.length;
        hash.update(chunk);
        opts.onData(received, total);
      });
      const cut = () =>
        fail(
          new DownloadError(
            "truncated",
            `connection to ${url} closed after ${received}${total !== undefined ? ` of ${total}` : ""} bytes (truncated download)`,
            url,
          ),
        );
      res.on("aborted", cut);
      res.on("error", (e) => {
        if (errCode(e) === "ECONNRESET" || e.message === "aborted") cut();
        else fail(new DownloadError("network", `${url}: ${e.message}`, url));
      });
      res.on("end", () => {
        if (done) return;
        if (!res.complete || (total !== undefined && received !== total)) return cut();
        done = true;
        out!.end();
        afterClose(() => resolve({ bytes: received, sha256: hash.digest("hex") }));
      });
      res.pipe(out, { end: false });
    });
    // Socket inactivity: covers a server that never answers and one that stalls mid-body.
    req.setTimeout(opts.timeoutMs, () =>
      fail(new DownloadError("timeout", `no data from ${url} for ${opts.timeoutMs} ms (timed out)`, url)),
    );
    req.on("error", (e) => {
      const code = errCode(e);
      if (UNREACHABLE.has(code ?? "")) fail(new DownloadError("offline", `cannot reach ${url} (${code})`, url));
      else if (code === "ECONNRESET") fail(new DownloadError("truncated", `connection to ${url} was reset (${code})`, url));
      else fail(new DownloadError("network", `${url}: ${e.message}`, url));
    });
  });
}

function defaultProgress(): (p: DownloadProgress) => void {
  const shown = new Map<string, number>();
  return (p) => {
    if (p.total === undefined || p.total === 0) return;
    const quarter = Math.floor((4 * p.received) / p.total);
    if ((shown.get(p.url) ?? -1) >= quarter) return;
    shown.set(p.url, quarter);
    const mb = (b: number) => (b / 1e6).toFixed(1);
    console.log(`  ${p.file}: ${mb(p.received)} / ${mb(p.total)} MB (${25 * quarter} %) from ${p.url}`);
  };
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Makes sure one IDX file is in the cache and verified, downloading it if needed. Returns its path.
 * A download goes to a temporary file in the cache folder, is checked (size, SHA-256, IDX header and
 * dimensions) and is renamed to its final name only then; on any failure the temporary file is removed.
 */
export async function downloadIdxFile(spec: IdxFileSpec, opts: DownloadOptions = {}): Promise<string> {
  const dir = mnistDir(opts);
  const files = opts.files ?? MNIST_FILES;
  const have = cachedFile(dir, spec);
  if (have) return have;
  const mirrors = opts.mirrors ?? MNIST_MIRRORS;
  const retries = opts.retries ?? 2;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const backoffMs = opts.backoffMs ?? 1_000;
  if (mirrors.length === 0) throw new DownloadError("failed", `no mirrors to download ${spec.name} from.\n${manualHelp(dir, files)}`);
  for (const m of mirrors) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(m).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`downloadIdxFile: mirror "${m}" is not an http(s) URL; mirrors are base URLs such as ${MNIST_MIRRORS[0]}`);
  }
  const report =
    opts.progress === false ? () => undefined : typeof opts.progress === "function" ? opts.progress : defaultProgress();
  fs.mkdirSync(dir, { recursive: true });
  const final = path.join(dir, spec.name);
  const failures: DownloadError[] = [];
  for (const mirror of mirrors) {
    const url = mirror.endsWith("/") ? mirror + spec.name : `${mirror}/${spec.name}`;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0 && backoffMs > 0) await wait(attempt * backoffMs);
      const tmp = path.join(dir, `.${spec.name}.${process.pid}.${Date.now()}.part`);
      try {
        const got = await fetchOnce(url, tmp, { timeoutMs, onData: (received, total) => report({ file: spec.name, url, received, total }) });
        if (spec.bytes !== undefined && got.bytes !== spec.bytes) {
          throw new DownloadError("truncated", `${url} sent ${got.bytes} bytes, expected ${spec.bytes} (incomplete or different file)`, url);
        }
        if (got.sha256 !== spec.sha256) {
          throw new DownloadError("checksum", `SHA-256 mismatch for ${url}: expected ${spec.sha256}, got ${got.sha256} (corrupt or different file)`, url);
        }
        try {
          readIdxFile(tmp, { source: url, dtype: "uint8", shape: spec.shape });
        } catch (e) {
          throw new DownloadError("format", (e as Error).message, url);
        }
        fs.renameSync(tmp, final);
        verified.set(final, (() => { const st = fs.statSync(final); return `${st.size}:${st.mtimeMs}`; })());
        return final;
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        const err = e instanceof DownloadError ? e : new DownloadError("network", `${url}: ${(e as Error).message}`, url);
        failures.push(err);
        // Only transient failures are worth another try on the same mirror.
        const transient = err.kind === "timeout" || err.kind === "truncated" || err.kind === "network" ||
          (err.kind === "http" && /^HTTP (5\d\d|408|429)\b/.test(err.message));
        if (!transient) break;
      }
    }
  }
  const allOffline = failures.every((f) => f.kind === "offline");
  const summary = failures.map((f) => `  - ${f.message}`).join("\n");
  if (allOffline) {
    throw new DownloadError("offline", `Cannot download ${spec.name}: no mirror is reachable (offline?).\n${summary}\n${manualHelp(dir, files)}`);
  }
  // One failure kind across all attempts keeps its kind, so callers (and tests) can tell cases apart.
  const kinds = new Set(failures.map((f) => f.kind));
  const kind = kinds.size === 1 ? failures[0].kind : "failed";
  throw new DownloadError(kind, `Cannot download ${spec.name}; every mirror failed:\n${summary}\n${manualHelp(dir, files)}`);
}

/** Status of one full-MNIST file in the cache. */
export interface CachedFileStatus {
  name: string;
  /** "ok" (present, checksum right), "missing", or "bad" (present, checksum wrong). */
  status: "ok" | "missing" | "bad";
  path: string;
  message?: string;
}

/** Checks which full-MNIST files are in the cache and intact, without any network access. */
export function checkMnistCache(opts: Pick<DownloadOptions, "cacheDir" | "files"> = {}): CachedFileStatus[] {
  const dir = mnistDir(opts);
  return listFiles(opts.files ?? MNIST_FILES).map((spec) => {
    try {
      const p = cachedFile(dir, spec);
      return p ? { name: spec.name, status: "ok" as const, path: p } : { name: spec.name, status: "missing" as const, path: path.join(dir, spec.name) };
    } catch (e) {
      return { name: spec.name, status: "bad" as const, path: path.join(dir, spec.name), message: (e as Error).message };
    }
  });
}

/** Downloads (or finds in the cache) the four full-MNIST files and returns their paths. */
export async function ensureMnistFiles(opts: DownloadOptions = {}): Promise<Record<keyof MnistFileSet, string>> {
  const files = opts.files ?? MNIST_FILES;
  return {
    trainImages: await downloadIdxFile(files.trainImages, opts),
    trainLabels: await downloadIdxFile(files.trainLabels, opts),
    testImages: await downloadIdxFile(files.testImages, opts),
    testLabels: await downloadIdxFile(files.testLabels, opts),
  };
}
