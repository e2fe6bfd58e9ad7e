import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
(async () => {
  const r = await initBackend(); console.log(r.engine);
  // dense backward: dx = d Wᵀ (d [B,o], W [i,o]); dW = sᵀ d (s [B,i])
  const dense = [[784, 300], [300, 100], [100, 10], [784, 100], [100, 100], [120, 84], [84, 10], [400, 120], [256, 120]];
  for (const B of [64, 16, 37]) for (const [i, o] of dense) {
    const d = tf.randomNormal([B, o]), W = tf.randomNormal([i, o]), s = tf.randomNormal([B, i]);
    const a1 = tf.matMul(d, tf.transpose(W)).dataSync(), a2 = tf.matMul(d, W, false, true).dataSync();
    const b1 = tf.matMul(tf.transpose(s), d).dataSync(), b2 = tf.matMul(s, d, true, false).dataSync();
    let da = 0, db = 0; for (let k = 0; k < a1.length; k++) if (a1[k] !== a2[k]) da++; for (let k = 0; k < b1.length; k++) if (b1[k] !== b2[k]) db++;
    if (da || db) console.log("dense", B, i, o, "dx diffs", da, "/", a1.length, "dW diffs", db, "/", b1.length);
  }
  // conv: cols [P,K], d [P,CO], Wm [K,CO]
  for (const [P, K, CO] of [[64 * 24 * 24, 25, 6], [64 * 8 * 8, 150, 16], [64 * 28 * 28, 25, 6], [64 * 10 * 10, 150, 16], [16 * 24 * 24, 25, 6]]) {
    const c = tf.randomNormal([P, K]), d = tf.randomNormal([P, CO]), Wm = tf.randomNormal([K, CO]);
    const a1 = tf.matMul(d, tf.transpose(Wm)).dataSync(), a2 = tf.matMul(d, Wm, false, true).dataSync();
    const b1 = tf.matMul(tf.transpose(c), d).dataSync(), b2 = tf.matMul(c, d, true, false).dataSync();
    let da = 0, db = 0; for (let k = 0; k < a1.length; k++) if (a1[k] !== a2[k]) da++; for (let k = 0; k < b1.length; k++) if (b1[k] !== b2[k]) db++;
    console.log("conv", P, K, CO, "dcols diffs", da, "/", a1.length, "dW diffs", db, "/", b1.length);
  }
})();
