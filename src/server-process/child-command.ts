/**
 * The command line that runs this same `cuttle` again in a child process (the supervisor, the
 * node it supervises, a systemd unit). A development checkout runs through `--import tsx`, a bare
 * specifier Node resolves from the child's working directory; it is made absolute here so the
 * child can run from the instance home (or `/` under systemd).
 */
export function cuttleCommand(args: string[]): [string, string[]] {
  const execArgv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if ((a === '--import' || a === '--loader') && process.execArgv[i + 1]) {
      execArgv.push(a, absoluteSpecifier(process.execArgv[++i]!));
    } else if (a.startsWith('--import=')) {
      execArgv.push(`--import=${absoluteSpecifier(a.slice('--import='.length))}`);
    } else {
      execArgv.push(a);
    }
  }
  return [process.execPath, [...execArgv, process.argv[1]!, ...args]];
}

function absoluteSpecifier(spec: string): string {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.includes(':')) return spec;
  try {
    return import.meta.resolve(spec);
  } catch {
    return spec;
  }
}
