/**
 * The bench history: one JSON line per `npm run bench` run (bench/history.jsonl) with the commit, the machine and its
 * load, and every figure as a ratio to a reference measured in the same run, so that runs on a busy or another
 * machine stay comparable and a regression shows as a change from the previous line.
 */

/** A figure: a ratio to a reference measured in the same run, and which way is better. */
export interface Figure {
  ratio: number;
  better: 'higher' | 'lower';
  /** What the ratio is (numerator ÷ reference). */
  of: string;
}

export interface HistoryEntry {
  date: string;
  commit: string;
  /** Uncommitted changes in the work tree when the bench ran. */
  dirty: boolean;
  node: string;
  cores: number;
  /** 1-minute load average before and after the run. */
  load: [number, number];
  figures: Record<string, number>;
}

export interface Change {
  figure: string;
  before: number;
  after: number;
  /** after ÷ before − 1. */
  change: number;
  kind: 'regression' | 'improvement';
}

/**
 * The latest value of every figure in a history file's text: each figure from the last line that has it (a run of one
 * bench module leaves the others' figures as they were). Unreadable lines are skipped.
 */
export function latestFigures(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as Partial<HistoryEntry>;
      for (const [k, v] of Object.entries(e.figures ?? {})) if (typeof v === 'number') out[k] = v;
    } catch {
      // a damaged line
    }
  }
  return out;
}

/** Figures whose ratio moved by more than `threshold` (relative) from the previous entry's, worst first. */
export function changes(
  previous: Record<string, number>,
  figures: Record<string, Figure>,
  threshold: number,
): Change[] {
  const out: Change[] = [];
  for (const [name, f] of Object.entries(figures)) {
    const before = previous[name];
    if (before === undefined || !(before > 0) || !Number.isFinite(f.ratio)) continue;
    const change = f.ratio / before - 1;
    if (Math.abs(change) <= threshold) continue;
    const worse = f.better === 'higher' ? change < 0 : change > 0;
    out.push({ figure: name, before, after: f.ratio, change, kind: worse ? 'regression' : 'improvement' });
  }
  return out.sort((a, b) =>
    a.kind === b.kind ? Math.abs(b.change) - Math.abs(a.change) : a.kind === 'regression' ? -1 : 1,
  );
}

export function formatChange(c: Change): string {
  const pct = `${c.change > 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%`;
  return `${c.kind === 'regression' ? 'REGRESSION' : 'improvement'}: ${c.figure} ${c.before} → ${c.after} (${pct})`;
}
