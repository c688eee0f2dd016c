export { Adam, ADAM_DEFAULTS, type AdamConfig } from "./adam.js";
export { ParamStore, type TensorInfo } from "./params.js";
export { LAYER_NORM_EPS, ResNet, validateResNetConfig, type HeadSpec, type ResNetConfig } from "./resnet.js";
export { crc32 } from "./crc32.js";
export { CHECKSUM_KEY, decodeSafetensors, encodeSafetensors, SafetensorsError, type DType, type Tensor } from "./safetensors.js";
export { adamTensors, checkAdamTensors, checkParamTensors, loadAdamTensors, loadParamTensors, paramTensors } from "./serialize.js";
