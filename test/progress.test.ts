import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgressBar, progressText, bar, clock } from "../lib/train/progress";

test("progressText: count, bar, percent, numbers and elapsed<left", () => {
  const line = progressText(12, 50, { loss: 0.123456, accuracy: 0.951, valAccuracy: 0.94 }, 3000);
  assert.equal(line, `epoch 12/50  ${bar(12 / 50)}   24%  loss 0.123456  acc  95.1%  val_acc  94.0%  00:03<00:10`);
  assert.equal(bar(0.5, 4), "██··");
  assert.equal(bar(1, 4), "████");
  assert.equal(bar(0.3, 4), "█▏··");
  assert.equal(clock(3725), "1:02:05");
  assert.match(progressText(50, 50, {}, 4000), /50\/50  █{20}  100%  00:04$/);
});

test("ProgressBar: redraws one line in place, throttled, and ends as one final line", () => {
  let t = 0;
  const out: string[] = [];
  const b = new ProgressBar({ total: 4, live: true, write: (s) => out.push(s), now: () => t, intervalMs: 100, delayMs: 50 });
  b.step(1, { loss: 1 }); // before delayMs: nothing
  assert.equal(out.length, 0);
  t = 60;
  b.tick(0.5); // draws 1.5 of 4
  t = 70;
  b.step(2, { loss: 0.5 }); // within intervalMs: skipped
  t = 200;
  b.step(3, { loss: 0.25 });
  b.log("a line above", (l) => out.push(`LOG ${l}\n`));
  t = 400;
  b.step(4, { loss: 0.125 });
  b.end();
  b.end(); // idempotent
  const text = out.join("");
  assert.ok(out[0].startsWith("\repoch 1/4"), out[0]);
  assert.ok(text.includes("LOG a line above\n"));
  assert.ok(text.endsWith("loss 0.125000  00:00\n"), JSON.stringify(text.slice(-60)));
  // What a notebook or terminal shows: each \r returns to the start of the line and overwrites it.
  const shown = text.split("\n").map((l) => l.split("\r").pop()!.trimEnd()).filter(Boolean);
  assert.equal(shown.length, 2);
  assert.equal(shown[0], "LOG a line above");
  assert.match(shown[1], /^epoch 4\/4  █{20}  100%  loss 0\.125000  00:00$/);
});

test("ProgressBar: the final line shows the last step even when its redraw was throttled", () => {
  let t = 0;
  const out: string[] = [];
  const b = new ProgressBar({ total: 3, live: true, write: (s) => out.push(s), now: () => t, intervalMs: 1000, delayMs: 0 });
  t = 10;
  b.step(1, { loss: 1 });
  t = 20;
  b.step(2, { loss: 0.5 }); // throttled
  b.step(3, { loss: 0.25 }); // throttled
  b.end();
  const last = out.join("").split("\n").filter(Boolean).pop()!.split("\r").pop()!.trimEnd();
  assert.match(last, /^epoch 3\/3  █{20}  100%  loss 0\.250000  00:00$/);
});

test("ProgressBar: silent when not live, and when the work was quick", () => {
  const out: string[] = [];
  const quiet = new ProgressBar({ total: 3, live: false, write: (s) => out.push(s) });
  quiet.step(3);
  quiet.end();
  let t = 0;
  const quick = new ProgressBar({ total: 3, live: true, write: (s) => out.push(s), now: () => t, delayMs: 300 });
  t = 100;
  quick.step(3);
  quick.end();
  assert.deepEqual(out, []);
  assert.throws(() => new ProgressBar({ total: 0 }), /positive integer/);
});
