import { binaryMap, unaryMap } from '../../tensor/broadcast.js';
import { where } from '../../tensor/ops/where.js';
import type { Tensor } from '../../tensor/tensor.js';
import { DataType } from '../tensorData.js';
import { input, type OpCall, type OpImpl } from './types.js';

/*
 * Comparisons, boolean logic and Where. Comparisons and logic give bool
 * tensors (0 / 1 in float32) with no gradient: their inputs are cut from the
 * graph, so shape arithmetic and masks never carry one. Where passes the
 * gradient to the branch each element came from.
 */

const compare = (fn: (x: number, y: number) => boolean): OpImpl => (call) => {
  call.outputTypes = [DataType.BOOL];
  return binaryMap(input(call, 0).detach(), input(call, 1).detach(), call.node.opType, (x, y) => (fn(x, y) ? 1 : 0));
};

const logical = (fn: (x: boolean, y: boolean) => boolean): OpImpl => compare((x, y) => fn(x !== 0, y !== 0));

const not: OpImpl = (call: OpCall): Tensor => {
  call.outputTypes = [DataType.BOOL];
  return unaryMap(input(call, 0).detach(), (v) => (v === 0 ? 1 : 0));
};

const whereOp: OpImpl = (call) => {
  call.outputTypes = [call.inputTypes[1]!];
  return where(input(call, 0).detach(), input(call, 1), input(call, 2));
};

export const logicOps = {
  Equal: compare((x, y) => x === y),
  Less: compare((x, y) => x < y),
  LessOrEqual: compare((x, y) => x <= y),
  Greater: compare((x, y) => x > y),
  GreaterOrEqual: compare((x, y) => x >= y),
  And: logical((x, y) => x && y),
  Or: logical((x, y) => x || y),
  Xor: logical((x, y) => x !== y),
  Not: not,
  Where: whereOp,
} satisfies Record<string, OpImpl>;
