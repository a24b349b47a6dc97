import { type Command, InvalidArgumentError, type OptionValues } from '@commander-js/extra-typings';

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
