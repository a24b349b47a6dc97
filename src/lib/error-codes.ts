/**
 * The catalog of stable error codes. A code names one kind of failure for scripts, tests and
 * support: it never changes once released, whatever the message says (messages are for people
 * and may be reworded). Each code has exactly one kind (errors.ts), which decides the exit code
 * and HTTP status (exit-codes.ts). docs/reference/error-codes.md is generated from this list
 * (`npm run docs:errors`), and a test keeps the two equal.
 *
 * Rules: UPPER_SNAKE_CASE, prefixed by the area (MOVE_, BACKUP_, ...); a new failure gets a new
 * code rather than reusing one whose meaning differs; a code is removed only with the release
 * notes saying so.
 */
export type ErrorKind =
  | 'usage' // the command line or request body is malformed
  | 'precondition' // input is well-formed but the world is not in a state that allows the action
  | 'not-found'
  | 'conflict'
  | 'forbidden'
  | 'unauthorized'
  | 'maintenance'
  | 'runtime'; // something failed while acting (I/O, database dropped the connection...)

interface CodeSpec {
  readonly kind: ErrorKind;
  /** What it means, in one sentence (the reference page's text). */
  readonly means: string;
}

const spec = <K extends ErrorKind>(kind: K, means: string) => ({ kind, means }) as const;

export const ERROR_CODES = {
  // ---- generic: for failures of a kind that need no finer name (unknown routes, anything unexpected)
  USAGE_INVALID: spec('usage', 'The command line is malformed: unknown option, missing or malformed value.'),
  REQUEST_INVALID: spec('usage', 'The request (body, path or query) does not match what the route accepts.'),
  VALUE_NOT_PORTABLE: spec(
    'usage',
    'A value holds a NUL character or a lone surrogate, which not every engine stores the same way.',
  ),
  VALUE_TOO_LONG: spec(
    'usage',
    'A short-text value (a name, a key) is longer than the 255 characters every engine holds.',
  ),
  VALUE_OUT_OF_RANGE: spec('usage', 'A number is outside the range every engine stores exactly.'),
  PRECONDITION_FAILED: spec(
    'precondition',
    'The input is well formed but the instance is not in a state that allows the action.',
  ),
  NOT_FOUND: spec('not-found', 'The named resource does not exist.'),
  CONFLICT: spec('conflict', 'The action conflicts with the current state of a resource.'),
  FORBIDDEN: spec('forbidden', 'The caller is known but may not do this.'),
  UNAUTHORIZED: spec('unauthorized', 'No valid API key or session was given.'),
  MAINTENANCE_MODE: spec('maintenance', 'Maintenance mode is on: only administrators can make changes.'),
  RUNTIME_FAILURE: spec(
    'runtime',
    'Something failed while acting (I/O, a dropped connection, a driver error).',
  ),
  INTERNAL_ERROR: spec('runtime', 'An unexpected error; the server log or CUTTLE_DEBUG=1 has the details.'),

  // ---- connection strings and connections
  CONNECTION_STRING_INVALID: spec(
    'precondition',
    'The connection string cannot be parsed or names an unsupported engine.',
  ),
  DATABASE_UNREACHABLE: spec(
    'precondition',
    'The database server refused the connection, timed out or its host is unknown.',
  ),
  DATABASE_LOGIN_FAILED: spec('precondition', 'The database refused the user name or password.'),
  DATABASE_AUTH_RULE_MISSING: spec(
    'precondition',
    'The database server has no authentication rule (pg_hba.conf) that lets the user in from this address.',
  ),
  DATABASE_MISSING: spec(
    'precondition',
    'The database (or SQLite file) named by the connection string does not exist.',
  ),
  DATABASE_FILE_CANNOT_OPEN: spec(
    'precondition',
    'The SQLite file cannot be opened: it or its folder is missing, or Cuttle may not open it.',
  ),
  DATABASE_FILE_INVALID: spec('precondition', 'The file is not a SQLite database, or it is damaged.'),
  DATABASE_FAILED: spec(
    'runtime',
    'The database failed while connecting or answering; the message says what the driver reported (never a password).',
  ),
  DATABASE_PRIVILEGES_MISSING: spec(
    'precondition',
    'The database user lacks privileges Cuttle needs (`cuttle database check` lists them).',
  ),
  DATABASE_SERVER_TOO_OLD: spec(
    'precondition',
    'The database server is older than the oldest version Cuttle supports.',
  ),
  DATABASE_CHECK_FAILED: spec(
    'precondition',
    '`database check` found several problems; each is listed with its own code.',
  ),
  DATABASE_SCHEMA_NEWER: spec('precondition', 'The database was upgraded by a newer Cuttle than this one.'),
  DATABASE_FOREIGN_TABLES: spec('precondition', "The database holds tables that are not Cuttle's."),
  DATABASE_NOT_CUTTLE: spec('precondition', "The database holds tables that are not Cuttle's."),
  SCHEMA_TOO_NEW: spec(
    'precondition',
    'The database was upgraded by a newer Cuttle; this version will not touch it.',
  ),
  DATABASE_EMPTY: spec('precondition', 'The database holds no Cuttle schema.'),
  DATABASE_HAS_INSTANCE: spec('precondition', 'The database already holds a Cuttle instance.'),
  DATABASE_OTHER_INSTANCE: spec('precondition', 'The database belongs to another Cuttle instance.'),
  DATABASE_MOVE_TARGET: spec('precondition', 'The database is the target of an unfinished database move.'),
  DATABASE_USER_INVALID: spec('precondition', 'The database user name is not valid.'),
  GRANT_UNSUPPORTED: spec('precondition', 'The engine has no users to grant privileges to (SQLite).'),
  SCHEMA_OUTDATED: spec(
    'precondition',
    'The database schema is older than this Cuttle; run `cuttle database upgrade`.',
  ),

  // ---- instances, config, home
  INSTANCE_NOT_FOUND: spec('not-found', 'No instance of that name is registered.'),
  INSTANCE_NAME_INVALID: spec(
    'precondition',
    'The instance name has characters or a length Cuttle does not accept.',
  ),
  INSTANCE_EXISTS: spec('precondition', 'An instance of that name or home already exists.'),
  CONFIG_MISSING: spec('precondition', 'The instance config file does not exist.'),
  CONFIG_INVALID: spec(
    'precondition',
    'The instance config or the instance registry cannot be read or holds an invalid value.',
  ),
  OPTION_INVALID: spec('usage', 'A flag or setting has a malformed value.'),
  OPTION_MISSING: spec('usage', 'A flag the command needs in this case was not given.'),
  OPTIONS_CONFLICT: spec('usage', 'Two flags were given that exclude each other.'),
  CONFIRMATION_REQUIRED: spec('usage', 'A destructive command needs its confirmation flag.'),
  FOLDER_NOT_EMPTY: spec('precondition', 'The folder given must be empty or new.'),
  FOLDERS_NESTED: spec('usage', 'The old and the new folder must not contain each other.'),
  DISK_SPACE_LOW: spec('precondition', 'There is not enough free space where the data must go.'),
  TOOL_MISSING: spec('precondition', 'A program Cuttle needs for this (e.g. zstd) is not installed.'),
  COPY_VERIFY_FAILED: spec('runtime', 'Copied files do not match their originals; nothing was switched.'),
  HOME_INVALID: spec(
    'precondition',
    'The home directory cannot be used (not a folder, not writable, inside another home, ...).',
  ),
  PATH_NOT_A_DIRECTORY: spec(
    'precondition',
    'A folder was expected, and the path (or a part of it) is a file.',
  ),
  PATH_IS_A_DIRECTORY: spec('precondition', 'A file was expected, and the path is a folder.'),
  PATH_NOT_WRITABLE: spec(
    'precondition',
    'The file or folder cannot be written: a read-only file system, an immutable folder, or access denied.',
  ),
  PATH_NOT_FOUND: spec('precondition', 'The file or folder given does not exist.'),
  PATH_INVALID: spec(
    'precondition',
    'A file or folder given cannot be used for this (missing, wrong type, not writable).',
  ),

  // ---- master key
  MASTER_KEY_NOT_SAVED: spec(
    'precondition',
    'The master key must be saved (or a sealed key bundle written) before the data leaves: `--yes` confirms it is.',
  ),
  KEY_BUNDLE_PASSPHRASE_MISSING: spec(
    'precondition',
    'A key bundle needs a passphrase file to seal the key with.',
  ),
  PASSPHRASE_FILE_UNREADABLE: spec('precondition', 'The passphrase file cannot be read.'),
  MASTER_KEY_WRONG: spec('precondition', 'The master key does not match the data it must decrypt.'),
  MASTER_KEY_MISSING: spec(
    'precondition',
    'No master key was found (key file, --master-key-file or CUTTLE_MASTER_KEY).',
  ),
  MASTER_KEY_INVALID: spec('precondition', 'The supplied master key is not 32 bytes of base64.'),
  CANARY_MISSING: spec('precondition', 'The database has no master-key canary: it was not set up by Cuttle.'),
  CANARY_DAMAGED: spec('precondition', 'The master-key canary in the database is damaged.'),
  SECRET_DAMAGED: spec('runtime', 'A sealed value is damaged: its authentication tag does not verify.'),
  PASSPHRASE_WRONG: spec('precondition', 'The passphrase does not open the key bundle.'),
  PASSPHRASE_INVALID: spec('precondition', 'The passphrase is missing, empty or too short.'),
  KEY_CHANGE_IN_PROGRESS: spec('precondition', 'Another master key change of the instance is in progress.'),
  KEY_CHANGE_INTERRUPTED: spec(
    'precondition',
    'A master key change was interrupted and must be resumed first.',
  ),
  MASTER_KEY_NOT_LOST: spec('precondition', 'The master key still opens the database: it is not lost.'),
  MASTER_KEY_SAME: spec('usage', 'The new master key is the key in use already.'),

  // ---- service and nodes
  SERVICE_RUNNING: spec('precondition', 'The service is running and the action needs it stopped.'),
  SERVICE_NOT_RUNNING: spec('precondition', 'The service is not running.'),
  SERVICE_START_FAILED: spec('runtime', 'The service did not start or did not answer.'),
  NODES_STILL_RUNNING: spec('precondition', 'Other server nodes still use the database.'),
  DATABASE_FENCED: spec(
    'precondition',
    'The database was moved away and is fenced; the server refuses to run on it.',
  ),
  RESTORE_UNFINISHED: spec(
    'precondition',
    'A restore into this database did not finish; it must be completed first.',
  ),
  NODE_RETIRED: spec('precondition', 'The node was retired and must not run against this database any more.'),
  LISTEN_FAILED: spec('precondition', 'The server cannot listen on the configured address.'),
  SYSTEMD_FAILED: spec('runtime', 'The systemctl program could not be run or failed.'),
  SERVICE_DRAIN_TIMEOUT: spec('runtime', 'The node was still draining when the stop timeout ran out.'),
  DRAIN_TIMEOUT: spec('precondition', 'Running tasks did not finish within the drain timeout.'),
  NODE_IS_SELF: spec('precondition', "The node named is this instance's own node."),
  NODE_NOT_FOUND: spec('not-found', 'No server node of that name is registered.'),
  ENGINE_SINGLE_NODE: spec(
    'precondition',
    'The database is SQLite, which serves one node, and another node runs on it; several nodes need PostgreSQL or MariaDB.',
  ),
  NODE_DRAIN_TIMEOUT: spec(
    'runtime',
    'The node still ran tasks when `cuttle node --wait` ran out; it stays draining.',
  ),
  NODE_RUNNING: spec('precondition', 'The node sent a recent heartbeat: it is running.'),

  // ---- backup and restore
  ARCHIVE_TABLE_UNKNOWN: spec(
    'runtime',
    'The archive holds a table that its own schema version does not have.',
  ),
  ARCHIVE_DAMAGED: spec(
    'precondition',
    'The backup archive is truncated, corrupt, or does not match its manifest.',
  ),
  ARCHIVE_UNSUPPORTED: spec(
    'precondition',
    'The archive is of a format or schema this Cuttle cannot restore.',
  ),
  RESTORE_NOTHING_TO_DO: spec(
    'precondition',
    'With --no-database a restore needs --instance or --home to put files in.',
  ),
  ARCHIVE_NOT_PORTABLE: spec(
    'precondition',
    'The archive holds old values the target engine cannot store (a NUL for PostgreSQL, short text over 255 characters for MySQL/MariaDB).',
  ),
  ARCHIVE_NO_DATABASE: spec('precondition', 'The archive holds no database (made with --no-database).'),
  ARCHIVE_KEY_WRONG: spec(
    'precondition',
    "The key given (or the archive's bundle opened with the passphrase) does not decrypt the archive's canary.",
  ),
  ARCHIVE_KEY_NEEDED: spec('precondition', "The archive's key is needed: a passphrase or the master key."),
  ARCHIVE_OTHER_INSTANCE: spec(
    'precondition',
    'The archive belongs to another instance than the target database.',
  ),
  ARCHIVE_CHANGED: spec('runtime', 'The archive changed while it was being restored.'),
  BACKUP_WRITE_FAILED: spec('runtime', 'Writing the backup archive failed.'),
  RESTORE_VERIFY_FAILED: spec('runtime', 'The restored tables do not match the archive.'),
  RESTORE_ROLLBACK_FAILED: spec('runtime', 'The restore failed and putting the target back failed too.'),
  REPLICA_FAILED: spec('precondition', 'The archive was restored but making it a safe replica failed.'),
  RESTORE_TARGET_NOT_EMPTY: spec(
    'precondition',
    'The restore target holds data the restore would overwrite.',
  ),
  BACKUP_SCHEDULE_INVALID: spec('usage', 'The backup schedule or retention is not valid.'),

  // ---- database move
  MOVE_TARGET_OPEN_FAILED: spec(
    'runtime',
    'The target database passed the preflight but could not be opened for the copy.',
  ),
  MOVE_JOURNAL_MISSING: spec('runtime', 'The move reached a step that needs its journal, and there is none.'),
  MOVE_FAILED: spec(
    'runtime',
    'The move failed during one of its phases; the journal records which, and `--resume` continues it.',
  ),
  MOVE_TARGET_NOT_EMPTY: spec('precondition', 'The move target already holds tables.'),
  MOVE_SAME_DATABASE: spec('precondition', 'The move target is the database the instance already uses.'),
  MOVE_SOURCE_SCHEMA_NOT_CURRENT: spec(
    'precondition',
    "The source database is not at this Cuttle's schema version; upgrade it before the move.",
  ),
  MOVE_SOURCE_NOT_PORTABLE: spec(
    'precondition',
    'The source holds values (old rows) that the target engine could refuse: NUL characters, short text over 255 characters.',
  ),
  MOVE_PREFLIGHT_FAILED: spec('precondition', 'The move preflight found problems; nothing was changed.'),
  MOVE_NOTHING_TO_RESUME: spec('precondition', 'There is no unfinished move to resume.'),
  MOVE_RESUME_MISMATCH: spec(
    'precondition',
    'The unfinished move goes elsewhere, or its source is no longer the instance database.',
  ),
  MOVE_TARGET_CHANGED: spec('precondition', 'The target was changed by something else during the move.'),
  MOVE_NOT_CONFIRMED: spec('precondition', 'The move needs --yes to confirm that the master key is saved.'),
  MOVE_VERIFY_FAILED: spec('runtime', 'A copied table differs from its source.'),
  MOVE_CUTOVER_FAILED: spec(
    'runtime',
    'The move failed during cutover; `cuttle database move --resume` finishes it.',
  ),
  MOVE_PROCESS_ENDED: spec(
    'runtime',
    'The move process ended without finishing or recording an error; `cuttle database move --resume` continues it.',
  ),
  MOVE_JOURNAL_INVALID: spec(
    'precondition',
    'The move journal cannot be read or is not a Cuttle move journal.',
  ),
  MOVE_LAUNCH_FAILED: spec('runtime', 'The background move process could not be started.'),
  MOVE_NO_INSTANCE_CONFIG: spec(
    'precondition',
    'This server has no instance config in its home, so it cannot move its database.',
  ),
  MOVE_RESTART_FAILED: spec('runtime', 'The move completed but the service it stopped did not start again.'),
  MOVE_FENCE_UNREACHABLE: spec(
    'runtime',
    'The move is cut over but the old database cannot be reached to fence it.',
  ),
  SERVICE_STOP_TIMEOUT: spec('precondition', 'The local service did not stop in time.'),
  NOT_FENCED: spec('precondition', 'The database is not fenced: there is nothing to unfence.'),
  MOVE_NOT_FOUND: spec('not-found', 'There is no database move with that id.'),

  // ---- portal sign-in and sessions
  SIGN_IN_FIELDS_MISSING: spec('usage', 'A sign-in needs both a username and a password.'),
  SIGN_IN_FAILED: spec('unauthorized', 'The username or password is wrong.'),
  SIGN_IN_LOCKED: spec('unauthorized', 'Too many failed sign-ins: the username is locked for a while.'),
  SESSION_ENDED: spec(
    'unauthorized',
    'The portal session expired, was signed out, or its user was disabled.',
  ),
  SESSION_NOT_USED: spec(
    'usage',
    'The request signs out a portal session but was authenticated with an API key.',
  ),
  CSRF_TOKEN_INVALID: spec(
    'forbidden',
    'A state-changing portal request did not carry the CSRF token of its session.',
  ),
  PASSWORD_RECHECK_FAILED: spec('forbidden', 'The password re-entered to see a secret is wrong.'),
  PASSWORD_RECHECK_LOCKED: spec('forbidden', 'Too many wrong passwords re-entered: locked for a while.'),
  NOT_A_USER: spec('forbidden', 'The action needs a signed-in user, and the caller is not one.'),
  // ---- domain
  STALE_VERSION: spec(
    'conflict',
    'The document was changed by someone else since it was read (its Version differs).',
  ),
  API_KEY_TAKEN: spec('conflict', 'That API key is already registered to another user.'),
  PROJECT_DISABLED: spec('precondition', 'The project is disabled.'),
  RESOURCE_IN_USE: spec('conflict', 'The resource cannot be deleted while others depend on it.'),
  NAME_TAKEN: spec('conflict', 'Another resource of that kind already has this name.'),
  RELEASE_VERSION_CONTENDED: spec(
    'conflict',
    'No release version could be generated: concurrent releases took each candidate.',
  ),
  RELEASE_VERSION_TAKEN: spec('conflict', 'The project already has a release with this version.'),
  STEP_UNSUPPORTED: spec(
    'precondition',
    'The deployment process has a step type or script syntax this server cannot run.',
  ),
  LIFECYCLE_REFUSES: spec('precondition', 'The lifecycle does not allow this deployment (yet).'),
  TASK_CANCEL_CONTENDED: spec('conflict', 'The task changed state on every try to cancel it; ask again.'),
  TASK_HANDLER_MISSING: spec(
    'runtime',
    'The task is of a kind this server has no handler for (a newer node queued it?).',
  ),
  DEPLOYMENT_GONE: spec(
    'runtime',
    'The deployment, or its release, project or environment, was deleted before its task ran.',
  ),
  DEPLOYMENT_STEPS_FAILED: spec(
    'runtime',
    'One or more steps of the deployment failed; the task log says which.',
  ),
  ID_CONTENTION: spec('runtime', 'Ids could not be reserved because other writers kept taking them; retry.'),
  TASK_LEASE_LOST: spec(
    'runtime',
    'A node wrote as the owner of a task whose lease had run out or that another node had taken; the database refused it.',
  ),
  TASK_NOT_CANCELLABLE: spec('conflict', 'The task has already finished.'),
  TASK_WAKEUPS_LOST: spec(
    'runtime',
    "A node's connection for task wake-ups from other nodes dropped or could not be made; it polls until it reconnects.",
  ),
  API_KEY_NOT_FOUND: spec('not-found', 'The user has no API key with that id.'),
  RELEASE_NOT_FOUND: spec('not-found', 'The release does not exist in the space.'),
  PROCESS_NOT_FOUND: spec('not-found', 'The deployment process does not exist in the space.'),
  SPACE_NOT_FOUND: spec('not-found', 'The space does not exist.'),
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose kind is K: an error class accepts only codes of its own kind. */
export type CodeOfKind<K extends ErrorKind> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]['kind'] extends K ? C : never;
}[ErrorCode];

export function isCodeOfKind<K extends ErrorKind>(code: ErrorCode, kind: K): code is CodeOfKind<K> {
  return ERROR_CODES[code].kind === kind;
}
