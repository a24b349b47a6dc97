import { Type } from 'typebox';
import { Bool, Flag, Links, NStr, Str, StrList } from './common-schemas.js';

/**
 * Releases as Octopus names them: ReleaseResource, the Executions API's CreateReleaseCommandV1
 * and its response. The command's keys are read case-insensitively (the official client mixes
 * `spaceName` with `ProjectName`), so a key in another casing is accepted too; keys named here
 * but not read by Cuttle are accepted and ignored.
 */
const opt = Type.Optional;
const ignored = (what: string) => ({ description: `accepted and ignored: ${what}` });

const SelectedPackage = Type.Object(
  { ActionName: Str, PackageReferenceName: opt(Str), Version: Str },
  { title: 'SelectedPackage' },
);

const SelectedGitResource = Type.Object(
  {
    ActionName: Str,
    GitReferenceResource: Type.Object({ GitRef: opt(Str), GitCommit: opt(Str) }),
    GitResourceReferenceName: Str,
  },
  { title: 'SelectedGitResource' },
);

const ReleasePackageVersionBuildInformation = Type.Object(
  {
    PackageId: Str,
    Version: Str,
    BuildNumber: Str,
    BuildUrl: Str,
    VcsType: Str,
    VcsRoot: Str,
    VcsCommitNumber: Str,
  },
  { title: 'ReleasePackageVersionBuildInformation' },
);

export const ReleaseSchema = Type.Object(
  {
    Id: Str,
    SpaceId: Str,
    ProjectId: Str,
    ChannelId: Str,
    Version: Str,
    ReleaseNotes: Str,
    Assembled: Type.String({ description: 'when the release was created (ISO 8601)' }),
    ProjectDeploymentProcessSnapshotId: Type.Unsafe<string | null>({
      type: ['string', 'null'],
      description: 'the deployment process as it was when the release was created: what its deployments run',
    }),
    ProjectVariableSetSnapshotId: Type.Unsafe<string | null>({
      type: ['string', 'null'],
      description: "the project's variables as they were when the release was created",
    }),
    LibraryVariableSetSnapshotIds: StrList,
    SelectedPackages: Type.Array(SelectedPackage, { description: 'always empty: Cuttle has no packages' }),
    SelectedGitResources: Type.Array(SelectedGitResource, { description: 'always empty' }),
    BuildInformation: Type.Array(ReleasePackageVersionBuildInformation, { description: 'always empty' }),
    IgnoreChannelRules: Bool,
    Links,
  },
  { title: 'ReleaseResource' },
);

export const CreateReleaseCommandV1 = Type.Object(
  {
    spaceId: opt(Type.String(ignored('the space is the one in the path'))),
    spaceIdOrName: opt(Type.String(ignored('the space is the one in the path'))),
    spaceName: opt(Type.String(ignored('the space is the one in the path'))),
    ProjectName: opt(
      Type.String({
        description:
          'the project, by name, slug or Id (ProjectId and ProjectIdOrName are read too). Required.',
      }),
    ),
    ReleaseVersion: opt(
      Type.String({ description: 'default: 0.0.N, N one more than the highest such release of the project' }),
    ),
    ChannelName: opt(Type.String({ description: "default: the project's Default channel" })),
    ReleaseNotes: opt(NStr),
    IgnoreIfAlreadyExists: opt(Flag('true: answer the existing release of that version instead of 409')),
    PackageVersion: opt(Type.String(ignored('Cuttle has no packages'))),
    Packages: opt(Type.Array(Type.String(), ignored('Cuttle has no packages'))),
    PackagePrerelease: opt(Type.String(ignored('Cuttle has no packages'))),
    GitRef: opt(Type.String(ignored('no version-controlled projects'))),
    GitCommit: opt(Type.String(ignored('no version-controlled projects'))),
    IgnoreChannelRules: opt(Flag(ignored('channels have no rules').description)),
    CustomFields: opt(Type.Record(Type.String(), Type.String(), ignored('not stored'))),
  },
  { title: 'CreateReleaseCommandV1', additionalProperties: true },
);

export const CreateReleaseResponseV1 = Type.Object(
  { ReleaseId: Str, ReleaseVersion: Str },
  { title: 'CreateReleaseResponseV1' },
);

/** The classic `POST /api/{spaceId}/releases` body (a NewRelease); read like the command above. */
export const NewRelease = Type.Object(
  {
    ProjectId: opt(Type.String({ description: 'the project, by Id, slug or name. Required.' })),
    Version: opt(Type.String({ description: 'default: 0.0.N' })),
    ChannelId: opt(Type.String({ description: "default: the project's Default channel" })),
    ReleaseNotes: opt(NStr),
    SelectedPackages: opt(Type.Array(SelectedPackage, ignored('Cuttle has no packages'))),
    SelectedGitResources: opt(Type.Array(SelectedGitResource, ignored('no version-controlled projects'))),
    IgnoreChannelRules: opt(Flag(ignored('channels have no rules').description)),
    CustomFields: opt(Type.Record(Type.String(), Type.String(), ignored('not stored'))),
  },
  { title: 'ReleaseResource', additionalProperties: true },
);

export const ModifyRelease = Type.Object(
  {
    Version: opt(Type.String({ description: 'a new version (unique in the project)' })),
    ReleaseNotes: opt(NStr),
  },
  {
    title: 'ReleaseResource',
    additionalProperties: true,
    description: 'Only Version and ReleaseNotes change; the snapshots never do.',
  },
);
