/** Calibrate-quantize: float model → full-integer int8 TFLite model for the Edge TPU. */
export {
  quantizeModel,
  quantizationState,
  type QuantizeOptions,
  type QuantizeReport,
  type QuantizeResult,
} from './quantize-model.js';
export { loadCalibrationSet, SYNTHETIC_WARNING, type CalibrationSet, type Sample } from '../data/dataset.js';
export { loadQuantizeConfig, parseQuantizeConfig, QuantizeConfigSchema, type QuantizeConfig } from './config.js';
export { CalibrationConfigSchema, type CalibrationConfig } from '../data/input-config.js';
export { collectStats, statsById, type StatsFile } from './stats.js';
export { calibrate, type CalibrateOptions } from './calibrate.js';
export { chooseRange, RANGE_METHODS, type RangeMethod, type TensorStat } from './ranges.js';
export { precheckModel, type PrecheckProblem } from './precheck.js';
export { compareLayers, worstLayers, type LayerError } from './debugger.js';
export { openInterpreterRunner, openRunner, OracleCapture, type CaptureRunner } from './capture.js';
export { PASSES, runPasses } from './driver.js';
