/**
 * Last line of defence against secrets in output: every string that leaves the process through the
 * CLI printer or the logger passes through `redactText`, which masks the values registered with
 * `registerSecret` and the password part of any connection string it recognises.
 * The first line of defence is never building messages from secrets in the first place.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

const urlPassword = /((?:postgres(?:ql)?|mysql|mariadb):\/\/[^:/@\s]+:)([^@\s]+)(@)/gi;
const keywordPassword = /((?:^|;)\s*(?:password|pwd)\s*=\s*)([^;]*)/gi;

export function redactText(text: string): string {
  let out = text.replace(urlPassword, '$1***$3').replace(keywordPassword, '$1***');
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}
