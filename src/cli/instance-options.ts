import { type Command, InvalidArgumentError, type OptionValues } from '@commander-js/extra-typings';
import { UsageError } from '../lib/errors.js';

/** The options every instance command takes. */
export function withInstance<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return cmd
    .option('--instance <name>', 'the instance to act on (default: "default")')
    .option('--config <file>', "the instance's config file, instead of --instance")
    .option('--master-key-file <file>', 'read the master key from this file (also: CUTTLE_MASTER_KEY)');
}

export function intOption(name: string, min = 0) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`${name} must be a whole number of at least ${min}.`);
    }
    return Number(value);
  };
}

/** `true`/`false` (Octopus's `--drain=true` style); anything else is a usage error. */
export function boolOption(flag: string) {
  return (v: string): boolean => {
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
    throw new UsageError(`${flag} takes true or false, not "${v}".`, { code: 'OPTION_INVALID' });
  };
}
