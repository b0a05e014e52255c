/** Bounds on what a user upload may unpack to, so that a crafted archive or folder cannot exhaust memory or disk. */
export interface UnpackLimits {
  /** Most files an archive or folder may hold. */
  maxEntries: number;
  /** Largest single file, in bytes, after decompression. */
  maxEntryBytes: number;
  /** Largest total size of all files, in bytes, after decompression. */
  maxTotalBytes: number;
  /** Largest ratio of uncompressed to compressed size for one entry (zip bombs). */
  maxCompressionRatio: number;
}

export const DEFAULT_LIMITS: UnpackLimits = {
  maxEntries: 10_000,
  maxEntryBytes: 1 << 30,
  maxTotalBytes: 2 ** 31,
  maxCompressionRatio: 1000,
};
