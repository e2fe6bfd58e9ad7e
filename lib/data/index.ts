/**
 * Public API of lib/data (re-exported by lib/index.ts): embedded MNIST, full MNIST (IDX download with
 * checksums), MNIST-1D, class splits and augmentation. Names are listed one by one so that internal
 * helpers stay internal and nothing collides with the rest of the library.
 */
export {
  type LabeledSet,
  type DataSplits,
  type MnistData,
  type MnistOptions,
  type TensorSet,
  type SmallMnist,
  smallMnist,
  type MnistTensors,
  MNIST_SIDE,
  MNIST_PIXELS,
  EMBEDDED_MNIST_SIZE,
  loadMnist,
  loadMnistTensors,
  clearMnistCache,
  datasetToTensors,
  makeLabeledSet,
  labelsToOneHot,
  subset,
  example,
  classCounts,
  stratifiedSplit,
} from "./mnist";
export {
  type IdxType,
  type IdxValues,
  type IdxArray,
  IdxFormatError,
  type ParseIdxOptions,
  parseIdx,
  readIdxFile,
  encodeIdx,
} from "./idx";
export {
  type IdxFileSpec,
  type MnistFileSet,
  MNIST_FILES,
  MNIST_MIRRORS,
  DATA_DIR_ENV,
  dataCacheDir,
  DownloadError,
  type DownloadErrorKind,
  type DownloadProgress,
  type DownloadOptions,
  downloadIdxFile,
  ensureMnistFiles,
  checkMnistCache,
  type CachedFileStatus,
} from "./download";
export { type FullMnistOptions, type FullMnistData, loadFullMnist } from "./mnist-full";
export {
  MNIST1D_TEMPLATES,
  type Mnist1dOptions,
  type Mnist1dData,
  makeMnist1d,
  mnist1dTemplates,
  resampleLinear,
  gaussianFilter1d,
} from "./mnist1d";
export {
  selectClasses,
  splitByClasses,
  samplePerClass,
  concatSets,
  shiftImage,
  rotateImage,
  addGaussianNoise,
  type AugmentOptions,
  augmentSet,
} from "./augment";

// 2-D toy sets and 1-D regression (written alongside; see toy2d.ts).
export * from "./toy2d";
