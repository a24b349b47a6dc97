import { open } from '../crypto/envelope.js';
import type { MasterKey } from '../crypto/master-key.js';
import type { DeploymentRow } from '../storage/repositories/deployment-repository.js';
import type { EnvironmentRow } from '../storage/repositories/environment-repository.js';
import type { ProjectRow } from '../storage/repositories/project-repository.js';
import type { ReleaseRow } from '../storage/repositories/release-repository.js';
import type { DeploymentDoc } from './deployment-service.js';
import type { VariableSnapshotEntry } from './variable-service.js';
import { VariableDictionary } from './variable-substitution.js';

export interface DeploymentScope {
  deployment: DeploymentRow;
  release: ReleaseRow;
  project: ProjectRow;
  environment: EnvironmentRow;
  spaceName: string;
  taskId: string;
}

/** True when a variable applies to this deployment (only environment and channel scopes are known). */
function applies(v: VariableSnapshotEntry, s: DeploymentScope): boolean {
  const envs = v.Scope?.Environment ?? [];
  const channels = v.Scope?.Channel ?? [];
  if (envs.length && !envs.includes(s.environment.id)) return false;
  if (channels.length && !channels.includes(s.release.channel_id)) return false;
  return true;
}

const specificity = (v: VariableSnapshotEntry) => Object.values(v.Scope ?? {}).filter((x) => x.length).length;

/**
 * The variables of one deployment, lowest precedence first: system variables, the release's
 * variable snapshot (a scoped value beats an unscoped one), then the deployment's own values.
 * Sensitive values are opened with the master key and returned in `secrets` for masking.
 */
export function buildDeploymentVariables(
  key: MasterKey,
  s: DeploymentScope,
): { dict: VariableDictionary; secrets: string[] } {
  const dict = new VariableDictionary();
  const secrets: string[] = [];
  const system: Record<string, string> = {
    'Octopus.Space.Id': s.deployment.space_id,
    'Octopus.Space.Name': s.spaceName,
    'Octopus.Project.Id': s.project.id,
    'Octopus.Project.Name': s.project.name,
    'Octopus.Environment.Id': s.environment.id,
    'Octopus.Environment.Name': s.environment.name,
    'Octopus.Release.Id': s.release.id,
    'Octopus.Release.Number': s.release.version,
    'Octopus.Release.Notes': s.release.release_notes,
    'Octopus.Release.Channel.Id': s.release.channel_id,
    'Octopus.Deployment.Id': s.deployment.id,
    'Octopus.Deployment.Name': s.deployment.name,
    'Octopus.Task.Id': s.taskId,
    'Octopus.Web.ServerUri': '',
  };
  for (const [k, v] of Object.entries(system)) dict.set(k, v);
  const snapshot =
    (JSON.parse(s.release.variables_snapshot_json || '{}') as { Variables?: VariableSnapshotEntry[] })
      .Variables ?? [];
  const chosen = snapshot.filter((v) => applies(v, s)).sort((a, b) => specificity(a) - specificity(b));
  for (const v of chosen) {
    let value = v.Value ?? '';
    if (v.IsSensitive && value) {
      value = open(key, value);
      secrets.push(value);
    }
    dict.set(v.Name, value);
  }
  const doc = JSON.parse(s.deployment.json || '{}') as DeploymentDoc;
  for (const [name, sealed] of Object.entries(doc.SealedFormValues ?? {})) dict.set(name, open(key, sealed));
  return { dict, secrets };
}
