/** Types of layers.js (a plain JS module: eslint.config.js loads it without TypeScript). */
export interface Layer {
  name: string;
  dir: string;
  mayImport: string[];
  role: string;
}
export const LAYERS: Layer[];
export const GROUPS: Record<string, string[]>;
