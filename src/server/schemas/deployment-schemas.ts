import { Type } from 'typebox';
import { Bool, Flag, Links, NStr, Str, StrList } from './common-schemas.js';

/**
 * Deployments as Octopus names them: DeploymentResource, the Executions API's
 * CreateDeploymentUntenantedCommandV1 and its response. Keys are read case-insensitively, as in
 * release-schemas.ts; keys named here but not read by Cuttle are accepted and ignored.
 */
const opt = Type.Optional;
const ignored = (what: string) => `accepted and ignored: ${what}`;
/**
 * A list of names or Ids, or one comma-separated string. The string branch comes first: the
 * array branch would coerce "Dev,Test" into ["Dev,Test"], one name.
 */
const NameList = (description: string) =>
  Type.Unsafe<string[] | string>({
    anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description,
  });

export const DeploymentSchema = Type.Object(
  {
    Id: Str,
    SpaceId: Str,
    ProjectId: Str,
    ReleaseId: Str,
    EnvironmentId: Str,
    ChannelId: Str,
    TaskId: Type.String({ description: 'the server task that runs it: GET /api/tasks/{TaskId}' }),
    TenantId: NStr,
    Name: Str,
    Created: Str,
    DeployedBy: NStr,
    DeployedById: NStr,
    Comments: NStr,
    FormValues: Type.Record(Type.String(), Str, {
      description: 'always empty in answers: prompted values are stored encrypted and never answered',
    }),
    SkipActions: StrList,
    SpecificMachineIds: StrList,
    ExcludedMachineIds: StrList,
    ForcePackageDownload: Bool,
    ForcePackageRedeployment: Bool,
    UseGuidedFailure: Bool,
    FailureEncountered: Bool,
    QueueTime: NStr,
    QueueTimeExpiry: NStr,
    Links,
  },
  { title: 'DeploymentResource' },
);

/** Fields both deployment bodies share. */
const common = {
  SkipActions: opt(NameList('actions to skip, by Id or name')),
  Comments: opt(NStr),
  FormValues: opt(
    Type.Record(Type.String(), Str, {
      description: 'prompted variable values by name; stored encrypted',
    }),
  ),
  UseGuidedFailure: opt(Flag('stored; Cuttle has no guided failure, a failed step fails the deployment')),
  ForcePackageDownload: opt(Flag(ignored('Cuttle has no packages'))),
};

export const CreateDeploymentUntenantedCommandV1 = Type.Object(
  {
    spaceId: opt(Type.String({ description: ignored('the space is the one in the path') })),
    spaceIdOrName: opt(Type.String({ description: ignored('the space is the one in the path') })),
    spaceName: opt(Type.String({ description: ignored('the space is the one in the path') })),
    ProjectName: opt(
      Type.String({
        description:
          'the project, by name, slug or Id (ProjectId and ProjectIdOrName are read too). Required with ReleaseVersion, unless ReleaseId is given.',
      }),
    ),
    ReleaseVersion: opt(Type.String({ description: 'the release of that project to deploy' })),
    ReleaseId: opt(Type.String({ description: 'instead of ProjectName and ReleaseVersion' })),
    EnvironmentNames: opt(
      NameList(
        'where to deploy, by name or Id (EnvironmentIds, EnvironmentName and EnvironmentId are read too): one deployment and one server task each, all queued or none',
      ),
    ),
    Variables: opt(
      Type.Record(Type.String(), Str, { description: 'prompted variable values by name; stored encrypted' }),
    ),
    SkipStepNames: opt(NameList('actions to skip, by name')),
    ...common,
    ForcePackageRedeployment: opt(Flag(ignored('Cuttle has no packages'))),
    UpdateVariableSnapshot: opt(Flag(ignored('the release keeps its snapshot'))),
    SpecificMachineNames: opt(
      Type.Array(Type.String(), { description: ignored('scripts run on the server') }),
    ),
    ExcludedMachineNames: opt(
      Type.Array(Type.String(), { description: ignored('scripts run on the server') }),
    ),
    RunAt: opt(Type.String({ description: ignored('deployments are queued at once') })),
    NoRunAfter: opt(Type.String({ description: ignored('deployments are queued at once') })),
    DeploymentFreezeNames: opt(Type.Array(Type.String(), { description: ignored('no deployment freezes') })),
    DeploymentFreezeOverrideReason: opt(Type.String({ description: ignored('no deployment freezes') })),
  },
  { title: 'CreateDeploymentUntenantedCommandV1', additionalProperties: true },
);

export const DeploymentServerTask = Type.Object(
  { DeploymentId: Str, ServerTaskId: Str },
  { title: 'DeploymentServerTask' },
);

export const CreateDeploymentUntenantedResponseV1 = Type.Object(
  {
    DeploymentServerTasks: Type.Array(DeploymentServerTask, {
      description: 'one per environment; follow a task with GET /api/tasks/{ServerTaskId}',
    }),
  },
  { title: 'CreateDeploymentUntenantedResponseV1' },
);

/** The classic `POST /api/{spaceId}/deployments` body (a DeploymentResource); read like the command above. */
export const NewDeployment = Type.Object(
  {
    ReleaseId: opt(Type.String({ description: 'the release to deploy. Required.' })),
    EnvironmentId: opt(Type.String({ description: 'where to deploy, by Id or name. Required.' })),
    ...common,
    ForcePackageRedeployment: opt(Flag(ignored('Cuttle has no packages'))),
    SpecificMachineIds: opt(Type.Array(Type.String(), { description: ignored('scripts run on the server') })),
    ExcludedMachineIds: opt(Type.Array(Type.String(), { description: ignored('scripts run on the server') })),
  },
  { title: 'DeploymentResource', additionalProperties: true },
);
