import type { ColumnType } from 'kysely';

/**
 * Row types for Kysely. Booleans read back as 0/1 on SQLite and MySQL, so they are selected as
 * `boolean | number` and turned into booleans with `toBool` in the repositories.
 * Timestamps are canonical UTC text everywhere (see column-types.ts).
 */
export type Bool = ColumnType<boolean | number, boolean, boolean>;
export type Int64 = ColumnType<string, string | number, string | number>;

export interface InstanceMetadataRow {
  key: string;
  value: string;
  updated: string;
  change_number: number;
}
export interface KeyAllocationRow {
  collection_name: string;
  next_id: number;
}
export interface ServerNodeRow {
  id: string;
  name: string;
  host: string;
  version: string;
  status: string;
  draining: Bool;
  task_cap: number;
  running_tasks: number;
  started: string;
  last_seen: string;
  change_number: number;
}
export interface UserRow {
  id: string;
  username: string;
  username_normalized: string;
  display_name: string;
  email: string | null;
  password_hash: string | null;
  role: string;
  is_active: Bool;
  is_service: Bool;
  created: string;
  change_number: number;
}
export interface ApiKeyRow {
  id: string;
  user_id: string;
  purpose: string;
  key_hash: string;
  created: string;
  change_number: number;
}
export interface SpaceRow {
  id: string;
  name: string;
  name_normalized: string;
  slug: string;
  description: string;
  is_default: Bool;
  task_queue_stopped: Bool;
  json: string;
  change_number: number;
}
export interface ProjectGroupRow {
  id: string;
  space_id: string;
  name: string;
  description: string;
  change_number: number;
}
export interface LifecycleRow {
  id: string;
  space_id: string;
  name: string;
  description: string;
  json: string;
  change_number: number;
}
export interface EnvironmentRow {
  id: string;
  space_id: string;
  name: string;
  name_normalized: string;
  description: string;
  sort_order: number;
  use_guided_failure: Bool;
  allow_dynamic_infrastructure: Bool;
  change_number: number;
}
export interface ProjectRow {
  id: string;
  space_id: string;
  name: string;
  name_normalized: string;
  slug: string;
  description: string;
  project_group_id: string;
  lifecycle_id: string;
  is_disabled: Bool;
  json: string;
  change_number: number;
}
export interface ChannelRow {
  id: string;
  space_id: string;
  project_id: string;
  name: string;
  is_default: Bool;
  change_number: number;
}
export interface DeploymentProcessRow {
  id: string;
  space_id: string;
  project_id: string;
  version: number;
  json: string;
  change_number: number;
}
export interface VariableSetRow {
  id: string;
  space_id: string;
  owner_id: string;
  version: number;
  change_number: number;
}
export interface VariableRow {
  id: string;
  variable_set_id: string;
  name: string;
  value: string | null;
  is_sensitive: Bool;
  scope_json: string;
  sort_order: number;
  change_number: number;
}
export interface ReleaseRow {
  id: string;
  space_id: string;
  project_id: string;
  channel_id: string;
  version: string;
  release_notes: string;
  assembled: string;
  process_snapshot_json: string;
  variables_snapshot_json: string;
  change_number: number;
}
export interface ServerTaskRow {
  id: string;
  space_id: string | null;
  kind: string;
  name: string;
  description: string;
  state: string;
  arguments_json: string;
  queue_time: string;
  start_time: string | null;
  completed_time: string | null;
  last_updated: string;
  error_message: string | null;
  has_warnings_or_errors: Bool;
  node_id: string | null;
  lease_until: string | null;
  attempts: number;
  cancel_requested: Bool;
  priority: number;
  activity_json: string;
  change_number: number;
}
export interface TaskLogChunkRow {
  task_id: string;
  seq: number;
  activity_id: string;
  category: string;
  occurred: string;
  text: string;
}
export interface DeploymentRow {
  id: string;
  space_id: string;
  project_id: string;
  release_id: string;
  environment_id: string;
  channel_id: string;
  task_id: string;
  name: string;
  created: string;
  deployed_by: string | null;
  json: string;
  change_number: number;
}
export interface ArtifactRow {
  id: string;
  space_id: string | null;
  server_task_id: string | null;
  filename: string;
  relative_path: string;
  size_bytes: Int64;
  sha256: string;
  created: string;
  change_number: number;
}
export interface EventRow {
  id: string;
  space_id: string | null;
  category: string;
  message: string;
  occurred: string;
  user_id: string | null;
  username: string | null;
  related_document_ids: string;
  details_json: string;
}
export interface EventReferenceRow {
  document_id: string;
  event_id: string;
  occurred: string;
}
export interface TombstoneRow {
  table_name: string;
  row_id: string;
  deleted: string;
  change_number: number;
}

export interface Database {
  instance_metadata: InstanceMetadataRow;
  key_allocations: KeyAllocationRow;
  server_nodes: ServerNodeRow;
  users: UserRow;
  api_keys: ApiKeyRow;
  spaces: SpaceRow;
  project_groups: ProjectGroupRow;
  lifecycles: LifecycleRow;
  environments: EnvironmentRow;
  projects: ProjectRow;
  channels: ChannelRow;
  deployment_processes: DeploymentProcessRow;
  variable_sets: VariableSetRow;
  variables: VariableRow;
  releases: ReleaseRow;
  server_tasks: ServerTaskRow;
  task_log_chunks: TaskLogChunkRow;
  deployments: DeploymentRow;
  artifacts: ArtifactRow;
  events: EventRow;
  event_references: EventReferenceRow;
  tombstones: TombstoneRow;
  portal_sessions: PortalSessionRow;
  sign_in_failures: SignInFailureRow;
}

export interface PortalSessionRow {
  id: string;
  user_id: string;
  csrf_token: string;
  created: string;
  last_seen: string;
  expires: string;
  change_number: number;
}
export interface SignInFailureRow {
  username_normalized: string;
  failures: number;
  first_failure: string;
  locked_until: string | null;
  change_number: number;
}

export function toBool(v: boolean | number | string | null | undefined): boolean {
  return v === true || v === 1 || v === '1' || v === 't';
}
