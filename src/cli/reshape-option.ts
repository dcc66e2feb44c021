import { squareGrid, swinReshape, vitReshape } from '../cam/reshape.js';
import type { ReshapeTransform } from '../cam/types.js';
import { UsageError } from './args-error.js';

/** --reshape as parsed: a ViT token layout, or Swin's channels-last layout. */
export type ReshapeOption = { kind: 'vit'; grid?: [number, number]; prefixTokens: number } | { kind: 'swin' };

export const RESHAPE_FORMS = "'vit:<rows>x<columns>[:<prefix tokens>]' (such as vit:14x14:1; prefix tokens default 1, the class token), 'vit' (a square grid after 1 class token) or 'swin'";

/** Parse --reshape: vit, vit:<h>x<w>, vit:<h>x<w>:<prefix>, or swin. */
export function parseReshapeOption(value: string | undefined): ReshapeOption | undefined {
  if (value === undefined) return undefined;
  const text = value.trim().toLowerCase();
  if (text === 'swin') return { kind: 'swin' };
  if (text === 'vit') return { kind: 'vit', prefixTokens: 1 };
  const m = /^vit:(\d{1,5})[x×](\d{1,5})(?::(\d{1,3}))?$/.exec(text);
  const rows = m ? Number(m[1]) : 0;
  const columns = m ? Number(m[2]) : 0;
  if (!m || rows < 1 || columns < 1) throw new UsageError(`--reshape takes ${RESHAPE_FORMS} (got '${value}')`);
  return { kind: 'vit', grid: [rows, columns], prefixTokens: m[3] === undefined ? 1 : Number(m[3]) };
}

/** The library transform --reshape stands for. */
export function reshapeTransform(option: ReshapeOption): ReshapeTransform {
  if (option.kind === 'swin') return swinReshape();
  return vitReshape({ ...(option.grid ? { grid: option.grid } : {}), prefixTokens: option.prefixTokens });
}

/**
 * The --reshape a token layer of `tokens` tokens most likely needs: a square
 * grid after 1 class token (ViT), after none (a square token grid), after 2
 * (DeiT's class and distillation tokens); else the form to fill in. With
 * what it assumes, for messages.
 */
export function suggestReshape(tokens: number): { flag: string; why: string } {
  for (const prefix of [1, 0, 2]) {
    const grid = squareGrid(tokens - prefix);
    if (grid) {
      const lead = prefix === 0 ? 'no class token' : prefix === 1 ? '1 class token' : `${prefix} prefix tokens`;
      return { flag: `vit:${grid[0]}x${grid[1]}:${prefix}`, why: `${tokens} tokens = ${lead} + a ${grid[0]}x${grid[1]} grid` };
    }
  }
  return { flag: 'vit:<rows>x<columns>:<prefix tokens>', why: `rows * columns + prefix tokens = ${tokens}` };
}

/** --reshape as a flag value again (vit:14x14:1, vit:1, swin), for the summary. */
export function reshapeFlag(option: ReshapeOption): string {
  if (option.kind === 'swin') return 'swin';
  return option.grid ? `vit:${option.grid[0]}x${option.grid[1]}:${option.prefixTokens}` : 'vit';
}
