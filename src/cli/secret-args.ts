import fs from 'node:fs';
import { UsageError } from '../lib/errors.js';

/**
 * Options whose value may carry a password. A value given on the command line is visible to every
 * user of the machine in the process list (`ps`) while the command runs, so each also reads from a
 * file (`--storage-connection-string-file FILE`, `--to-file FILE`, `--password-file FILE`) or from
 * standard input (`--storage-connection-string -`); the value then lives only in this process.
 */
const SECRET_OPTIONS = ['--storage-connection-string', '--to', '--password'] as const;

export interface SecretArgIo {
  /** A warning line on stderr (never with the secret in it). */
  warn(line: string): void;
  /** All of standard input (read at most once). */
  readStdin(): string;
}

const DEFAULT_IO: SecretArgIo = {
  warn: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => fs.readFileSync(0, 'utf8'),
};

/**
 * Rewrites the file and stdin forms into the plain option before parsing, and warns when a
 * password is given on the command line itself.
 */
export function resolveSecretArgs(args: string[], io: SecretArgIo = DEFAULT_IO): string[] {
  const out: string[] = [];
  let stdin: string | undefined;
  const fromStdin = () => {
    stdin ??= firstLine(io.readStdin());
    return stdin;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const fileOf = SECRET_OPTIONS.find((o) => name === `${o}-file`);
    if (fileOf) {
      const file = inline ?? args[++i];
      if (!file) throw new UsageError(`${name} needs a file name.`, { code: 'OPTION_MISSING' });
      out.push(`${fileOf}=${readSecretFile(name, file)}`);
      continue;
    }
    const plain = SECRET_OPTIONS.find((o) => name === o);
    if (!plain) {
      out.push(arg);
      continue;
    }
    const value = inline ?? args[i + 1];
    if (inline === undefined) i++;
    if (value === undefined) {
      out.push(arg);
      continue;
    }
    if (value === '-') {
      out.push(`${plain}=${fromStdin()}`);
      continue;
    }
    if (plain === '--password' || holdsPassword(value))
      io.warn(
        `warning: the password given with ${plain} is visible to other users of this machine (ps) while the command runs; use ${plain}-file FILE or ${plain} - (standard input) instead.`,
      );
    out.push(`${plain}=${value}`);
  }
  return out;
}

function readSecretFile(option: string, file: string): string {
  try {
    return firstLine(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`${option}: the file ${file} cannot be read (${why}).`, {
      code: 'OPTION_INVALID',
      hints: ['Give a file readable by this user, holding the value on its first line.'],
    });
  }
}

/** The value is the first line: a trailing newline (echo, an editor) is not part of it. */
function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/** A connection string with a password in it: `user:PW@` in a URL, or a `Password=` keyword. */
function holdsPassword(cs: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]+@/i.test(cs) || /(^|;)\s*(password|pwd)\s*=\s*[^;\s]/i.test(cs);
}
