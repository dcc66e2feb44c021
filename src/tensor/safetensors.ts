import { Tensor } from './tensor.js';
import { notImplemented } from './todo.js';

/** Read a safetensors file: F32 as is; F16, BF16, F64 and integer scalars converted to float32. */
export function loadSafetensors(bytes: Uint8Array): Record<string, Tensor> { return notImplemented('loadSafetensors', bytes); }
/** Write tensors as a safetensors file (F32, keys sorted). */
export function saveSafetensors(dict: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array { return notImplemented('saveSafetensors', dict, metadata); }
