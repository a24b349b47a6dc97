import { Type } from 'typebox';
import { AnyJson, Bool, Int, Links, NStr, Str, StrList } from './common-schemas.js';

/**
 * Response schemas of Octopus's resources. They are the allow-list of what leaves the server:
 * a field not named here (a password hash, a sealed value) cannot reach a client.
 */
export const SpaceSchema = Type.Object({
  Id: Str,
  Name: Str,
  Slug: Str,
  Description: Str,
  IsDefault: Bool,
  TaskQueueStopped: Bool,
  SpaceManagersTeams: StrList,
  SpaceManagersTeamMembers: StrList,
  Links,
});

export const ProjectGroupSchema = Type.Object({
  Id: Str,
  SpaceId: Str,
  Name: Str,
  Description: Str,
  EnvironmentIds: StrList,
  RetentionPolicyId: NStr,
  Links,
});

export const LifecycleSchema = Type.Object({
  Id: Str,
  SpaceId: Str,
  Name: Str,
  Description: Str,
  Phases: Type.Array(AnyJson),
  ReleaseRetentionPolicy: AnyJson,
  TentacleRetentionPolicy: AnyJson,
  Links,
});

export const EnvironmentSchema = Type.Object({
  Id: Str,
  SpaceId: Str,
  Name: Str,
  Slug: Str,
  Description: Str,
  SortOrder: Int,
  UseGuidedFailure: Bool,
  AllowDynamicInfrastructure: Bool,
  ExtensionSettings: Type.Array(AnyJson),
  Links,
});

export const ProjectSchema = Type.Object({
  Id: Str,
  SpaceId: Str,
  Name: Str,
  Slug: Str,
  Description: Str,
  ProjectGroupId: Str,
  LifecycleId: Str,
  DeploymentProcessId: Str,
  VariableSetId: Str,
  IsDisabled: Bool,
  RetryOnNodeFailure: Bool,
  IsVersionControlled: Bool,
  PersistenceSettings: AnyJson,
  TenantedDeploymentMode: Str,
  DefaultGuidedFailureMode: Str,
  DiscreteChannelRelease: Bool,
  IncludedLibraryVariableSetIds: StrList,
  AutoCreateRelease: Bool,
  Links,
});

const VariableSchema = Type.Object({
  Id: Str,
  Name: Str,
  Value: NStr,
  Description: NStr,
  Scope: AnyJson,
  IsEditable: Bool,
  Prompt: AnyJson,
  Type: Str,
  IsSensitive: Bool,
});

export const VariableSetSchema = Type.Object({
  Id: Str,
  OwnerId: Str,
  SpaceId: Str,
  Version: Int,
  Variables: Type.Array(VariableSchema),
  ScopeValues: AnyJson,
  Links,
});

export const ServerTaskSchema = Type.Object({
  Id: Str,
  SpaceId: NStr,
  Name: Str,
  Description: Str,
  State: Str,
  IsCompleted: Bool,
  FinishedSuccessfully: Bool,
  HasPendingInterruptions: Bool,
  HasBeenPickedUpByProcessor: Bool,
  HasWarningsOrErrors: Bool,
  ErrorMessage: Str,
  QueueTime: Str,
  QueueTimeExpiry: NStr,
  StartTime: NStr,
  CompletedTime: NStr,
  LastUpdatedTime: Str,
  Duration: Str,
  ServerNode: NStr,
  CanRerun: Bool,
  IsPreparing: Bool,
  Arguments: AnyJson,
  Links,
});

export const TaskDetailsSchema = Type.Object({
  Task: ServerTaskSchema,
  Progress: AnyJson,
  PhysicalLogSize: Int,
  ActivityLogs: Type.Array(AnyJson),
  Links,
});

export const EventSchema = Type.Object({
  Id: Str,
  SpaceId: NStr,
  Category: Str,
  Message: Str,
  MessageHtml: Str,
  MessageReferences: Type.Array(AnyJson),
  RelatedDocumentIds: StrList,
  Occurred: Str,
  UserId: NStr,
  Username: NStr,
  IsService: Bool,
  IdentityEstablishedWith: Str,
  UserAgent: Str,
  Comments: NStr,
  Details: NStr,
  ChangeDetails: AnyJson,
  IpAddress: NStr,
  Links,
});

export const UserSchema = Type.Object({
  Id: Str,
  Username: Str,
  DisplayName: Str,
  EmailAddress: NStr,
  IsActive: Bool,
  IsService: Bool,
  IsRequestor: Bool,
  CanPasswordBeEdited: Bool,
  Identities: Type.Array(AnyJson),
  CuttleRole: Str,
  Links,
});

export const ApiKeySchema = Type.Object({
  Id: Str,
  UserId: Str,
  Purpose: Str,
  Created: Str,
  Expires: NStr,
  ApiKey: NStr,
  Links,
});

export const MaintenanceSchema = Type.Object({
  Id: Str,
  IsInMaintenanceMode: Bool,
  LastModifiedBy: NStr,
  LastModifiedOn: NStr,
  Links,
});
