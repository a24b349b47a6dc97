/**
 * What the built-in worker can run: one list for the save-time check (process-normalizer.ts) and
 * the deploy-time one (deployment-task-handler.ts), so the two can never disagree.
 */
export const SUPPORTED_ACTION_TYPES = ['Octopus.Script'] as const;
const SUPPORTED_SCRIPT_SOURCES = ['Inline'] as const;
const SUPPORTED_SCRIPT_SYNTAXES = ['Bash', 'PowerShell'] as const;
export type SupportedSyntax = (typeof SUPPORTED_SCRIPT_SYNTAXES)[number];

/** Octopus's defaults when an action leaves them out. */
const DEFAULT_SCRIPT_SOURCE = 'Inline';
const DEFAULT_SCRIPT_SYNTAX: SupportedSyntax = 'PowerShell';

export const SUPPORTED_SUMMARY =
  `Cuttle runs the action type ${SUPPORTED_ACTION_TYPES.join(', ')} with the script source ` +
  `${SUPPORTED_SCRIPT_SOURCES.join(', ')} (Octopus.Action.Script.ScriptSource) and the script ` +
  `syntax ${SUPPORTED_SCRIPT_SYNTAXES.join(' or ')} (Octopus.Action.Script.Syntax).`;

const has = (list: readonly string[], v: string) => list.includes(v);

/** What an action asks for that the worker cannot do, one sentence each; empty when it can run. */
export function unsupportedParts(type: string, values: Record<string, string>): string[] {
  if (!has(SUPPORTED_ACTION_TYPES, type)) return [`the action type "${type}" is not supported.`];
  const out: string[] = [];
  const source = values['Octopus.Action.Script.ScriptSource'] ?? DEFAULT_SCRIPT_SOURCE;
  if (!has(SUPPORTED_SCRIPT_SOURCES, source)) out.push(`the script source "${source}" is not supported.`);
  const syntax = values['Octopus.Action.Script.Syntax'] ?? DEFAULT_SCRIPT_SYNTAX;
  if (!has(SUPPORTED_SCRIPT_SYNTAXES, syntax)) out.push(`the script syntax "${syntax}" is not supported.`);
  return out;
}

/** The action's script syntax (after unsupportedParts found nothing). */
export function syntaxOf(values: Record<string, string>): SupportedSyntax {
  return (values['Octopus.Action.Script.Syntax'] ?? DEFAULT_SCRIPT_SYNTAX) as SupportedSyntax;
}
