/**
 * One bad input of the reliability corpus: code that writes it into a fresh folder and returns the path `kiln build`
 * is given. Every case must fail its build with a bad-input error (CLI exit 2, one line on stderr).
 */
export interface BadInput {
  /** Unique, file-name safe. */
  name: string;
  /** What is wrong with it, for the docs and test titles. */
  what: string;
  /** Writes the input under `dir` (an empty folder of its own) and returns the path to build. */
  write(dir: string): Promise<string>;
  /** The reason the build must give (matched against the one stderr line). */
  expect: RegExp;
  /** KILN_* settings for this case (limits). */
  env?: Record<string, string>;
}
