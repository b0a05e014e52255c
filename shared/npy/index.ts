export { readNpy, writeNpy, type NpyArray } from './npy.js';
