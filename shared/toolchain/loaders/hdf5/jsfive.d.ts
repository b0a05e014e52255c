// Minimal typings for jsfive (pure-JS HDF5 reader, https://github.com/usnistgov/jsfive): only what Kiln uses.
declare module 'jsfive' {
  export class Group {
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset;
  }
  export class Dataset {
    readonly shape: number[];
    readonly dtype: string | unknown[];
    readonly value: ArrayLike<number | bigint | string>;
    readonly attrs: Record<string, unknown>;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}
