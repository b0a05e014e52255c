export { readNpy, readNpyFloat32, writeNpy, type NpyArray } from './npy.js';
