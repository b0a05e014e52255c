import { Command, CommanderError } from 'commander';
import { exitCodeFor, isKilnError } from '../common/errors.js';
import { COMMANDS } from './commands/index.js';

export type Register = (program: Command) => void;

/**
 * The `kiln` CLI. Every command module registers itself (`commands`: the toolchain's and the cloud's by default); errors end here: a KilnError of kind bad-input prints one
 * line on stderr and exits 2, anything else exits 1 (with the stack only when KILN_DEBUG is set).
 */
export async function main(argv: string[], commands: readonly Register[] = COMMANDS): Promise<number> {
  const program = new Command('kiln')
    .description('Kiln: compile trained TensorFlow models for the Google Coral Edge TPU')
    .version(process.env['npm_package_version'] ?? '0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      return 2;
    }
    if (isKilnError(e)) {
      process.stderr.write(`kiln: ${e.oneLine()}\n`);
      return exitCodeFor(e);
    }
    process.stderr.write(`kiln: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env['KILN_DEBUG']) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return 1;
  }
}
