/**
 * Accepts the spellings Octopus admins type. `--storageConnectionString=V` becomes
 * `--storage-connection-string=V` (any camelCase option gets its kebab-case twin), and
 * `database --create|--upgrade|--check|--grant=U` become the `database` subcommands.
 */
export function normalizeArgv(args: string[]): string[] {
  const out = args.map((a) => {
    if (!a.startsWith('--')) return a;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!/[A-Z]/.test(name)) return a;
    const kebab = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    return eq < 0 ? kebab : kebab + a.slice(eq);
  });
  const i = out.indexOf('database');
  if (i >= 0 && out[i + 1]?.startsWith('--')) {
    const flag = out[i + 1]!;
    const sub = ['--create', '--upgrade', '--check'].find((f) => flag === f);
    if (sub) out.splice(i + 1, 1, sub.slice(2));
    else if (flag.startsWith('--grant')) {
      const user = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : out[i + 2];
      out.splice(i + 1, flag.includes('=') ? 1 : 2, 'grant', '--user', user ?? '');
    }
  }
  return out;
}
