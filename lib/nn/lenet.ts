/**
 * LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998) from the layers of this library:
 *
 *   C1 conv 5×5, 6 maps ("same" on 28×28: the paper pads its 32×32 input) → g → S2 pool 2×2
 *   C3 conv 5×5, 16 maps ("valid")                                       → g → S4 pool 2×2
 *   flatten → F5 dense 120 → g → F6 dense 84 → g → output dense 10 (softmax + cross-entropy head)
 *
 * On 28×28 digits: 28×28×6 → 14×14×6 → 10×10×16 → 5×5×16 = 400 → 120 → 84 → 10, 61 706 parameters.
 * The paper's S2/S4 are trainable averages and C3 connects only some maps; here they are plain average
 * (or max) pooling and a full C3, as in most modern re-implementations. g is tanh by default (the paper's
 * scaled tanh), relu on request.
 */
import { Rng } from "../random";
import { ActivationName } from "../scratch/activations";
import { Activation } from "./activation";
import { Conv2D } from "./conv";
import { Dense } from "./dense";
import { Flatten } from "./flatten";
import { heads } from "./heads";
import { Layer } from "./layer";
import { Network } from "./network";
import { AvgPool2D, MaxPool2D } from "./pool";

export interface LeNet5Options {
  /** One image, [H, W, C] (default [28, 28, 1]). */
  inputShape?: [number, number, number];
  /** Activation after each conv and hidden dense layer (default "tanh"). */
  activation?: ActivationName;
  /** "avg" (default, the paper's subsampling) or "max". */
  pool?: "avg" | "max";
  /** Feature maps of C1 and C3 (default [6, 16]) and units of F5, F6 (default [120, 84]). */
  maps?: [number, number];
  hidden?: [number, number];
  classes?: number;
  rng?: Rng;
}

/** The layers of LeNet-5 (see the file comment). */
export function lenet5Layers(opts: LeNet5Options = {}): Layer[] {
  const [H, W, C] = opts.inputShape ?? [28, 28, 1];
  const [m1, m3] = opts.maps ?? [6, 16], [f5, f6] = opts.hidden ?? [120, 84];
  const g = opts.activation ?? "tanh", rng = opts.rng;
  const pool = () => (opts.pool === "max" ? new MaxPool2D({ size: 2 }) : new AvgPool2D({ size: 2 }));
  const c1 = Conv2D.init(5, C, m1, { padding: "same", rng });
  const s2 = pool();
  const afterS2 = s2.outputShape(c1.outputShape([H, W, C]));
  const c3 = Conv2D.init(5, m1, m3, { rng });
  const s4 = pool();
  const [h4, w4, c4] = s4.outputShape(c3.outputShape(afterS2));
  return [
    c1, new Activation(g), s2,
    c3, new Activation(g), s4,
    new Flatten(),
    Dense.init(h4 * w4 * c4, f5, { rng }), new Activation(g),
    Dense.init(f5, f6, { rng }), new Activation(g),
    Dense.init(f6, opts.classes ?? 10, { rng }),
  ];
}

/** LeNet-5 as a Network with a softmax + cross-entropy head, ready for train(). */
export function lenet5(opts: LeNet5Options = {}): Network {
  return new Network(lenet5Layers(opts), heads.softmaxCrossEntropy(), { inputShape: opts.inputShape ?? [28, 28, 1] });
}
