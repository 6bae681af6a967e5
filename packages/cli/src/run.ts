/**
 * Runs the command line and turns every outcome into an exit code: a command's own, 0 for
 * `--help`/`--version`, 64 for a usage error, and for anything thrown one line on stderr
 * (its stack too with `--loglevel debug`).
 */
import { CommanderError, type Command } from 'commander';
import type { CommandAction } from './command.js';
import { describeError, EXIT, exitCodeOf } from './errors.js';
import { buildProgram, globalOptions, type Runner } from './program.js';
import type { CommandKind, Session } from './session.js';

/** Where the CLI writes what it reports. */
export interface RunIo {
  readonly stderr: (text: string) => void;
}

const defaultIo: RunIo = { stderr: (text) => process.stderr.write(text) };

/**
 * Runs `celeriac` with these arguments (without `node` and the script).
 *
 * @returns the exit code
 */
export async function run(argv: readonly string[], io: RunIo = defaultIo): Promise<number> {
  let exitCode: number = EXIT.OK;
  let session: Session | undefined;
  const runner: Runner =
    <TArgs extends unknown[]>(action: CommandAction<TArgs>, kind: CommandKind = 'one-shot') =>
    async (...received: unknown[]) => {
      // commander passes the arguments, then the options, then the command itself.
      const command = received.at(-1) as Command;
      const { Session } = await import('./session.js');
      session = new Session(globalOptions(command), kind);
      const code = await action(session, ...(received.slice(0, -1) as TArgs));
      exitCode = typeof code === 'number' ? code : EXIT.OK;
    };
  const program = buildProgram(runner);
  for (const command of allCommands(program)) {
    const name = fullName(command);
    command.configureOutput({
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => {
        const message = text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
        write(`Error: ${message} (see: ${name} --help)\n`);
      },
    });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version print and exit 0; a usage error was printed by outputError above.
      exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else {
      io.stderr(`Error: ${describeError(error, session?.broker)}\n`);
      if (session?.debug === true) {
        for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) io.stderr(`${cause.stack ?? cause.message}\n`);
      }
      exitCode = exitCodeOf(error);
    }
  } finally {
    await session?.close();
  }
  return exitCode;
}

/** `celeriac inspect registered`, for pointing at a command's help. */
function fullName(command: Command): string {
  return command.parent === null ? command.name() : `${fullName(command.parent)} ${command.name()}`;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}
