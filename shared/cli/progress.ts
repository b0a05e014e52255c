import { SingleBar } from 'cli-progress';

/**
 * Progress of a long CLI command on stderr (stdout keeps the result, so `--json` output stays clean): a bar per phase
 * of countable work (calibration samples, validation samples) and one line per step (a stage done, an event). Shown
 * when stderr is a terminal; KILN_PROGRESS=1 forces it (logs, CI), KILN_PROGRESS=0 hides it. Without a terminal the
 * bars become one line when a phase starts and one when it ends.
 */
export function progressWanted(
  env: NodeJS.ProcessEnv = process.env,
  stream: { isTTY?: boolean } = process.stderr,
): boolean {
  const forced = env['KILN_PROGRESS'];
  if (forced === '1' || forced === '0') return forced === '1';
  return Boolean(stream.isTTY);
}

export class Progress {
  private bar: SingleBar | null = null;
  private phase = '';
  private total = 0;
  private readonly tty: boolean;

  constructor(
    private readonly command: string,
    readonly enabled: boolean = progressWanted(),
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Countable work: `done` of `total` in phase `phase` (a new phase ends the previous one). */
  update(phase: string, done: number, total: number): void {
    if (!this.enabled) return;
    if (phase !== this.phase) {
      this.endPhase();
      this.phase = phase;
      this.total = total;
      if (this.tty) {
        this.bar = new SingleBar({
          format: `kiln ${this.command} {phase} [{bar}] {value}/{total}`,
          stream: this.stream,
          hideCursor: true,
        });
        this.bar.start(total, 0, { phase });
      } else this.line(`${phase}: ${total} to do`);
    }
    this.total = total;
    this.bar?.update(done, { phase });
  }

  /** One finished step, as its own line. */
  step(text: string): void {
    if (!this.enabled) return;
    this.endPhase();
    this.line(text);
  }

  /** Ends the current bar (call when the command ends, also on failure). */
  stop(): void {
    this.endPhase();
  }

  private endPhase(): void {
    if (!this.phase) return;
    if (this.bar) this.bar.stop();
    else this.line(`${this.phase}: done (${this.total})`);
    this.bar = null;
    this.phase = '';
  }

  private line(text: string): void {
    this.stream.write(`kiln ${this.command}: ${text}\n`);
  }
}

/** Seconds for progress lines: "0.4 s", "12.3 s", "2 min 5 s". */
export function seconds(ms: number): string {
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
