import { type TSchema, Type } from 'typebox';
import { Bool, Int32, Links, NStr, Str, StrList } from './common-schemas.js';

/**
 * A deployment process, its steps and their actions, as Octopus names them
 * (DeploymentProcessResource, DeploymentStepResource, DeploymentActionResource). The request
 * shapes accept what the official client sends (Ids sent empty, nulls where Octopus allows
 * them); fields not named here are kept as sent, so the step and action objects allow more.
 *
 * Nullable types are JSON-Schema type lists, not anyOf: with the server's type coercion an anyOf
 * would turn a null into "" or [null] through its first branch (see common-schemas.ts `NStr`).
 */
const nullable = (type: string, extra: Record<string, unknown> = {}, description?: string) =>
  Type.Unsafe({ type: [type, 'null'], ...extra, ...(description ? { description } : {}) });
const NList = (description?: string) => nullable('array', { items: { type: 'string' } }, description);
const NBool = (description?: string) => Type.Optional(Type.Boolean(description ? { description } : {}));
const opt = <T extends TSchema>(s: T) => Type.Optional(s);

const SUPPORTED =
  'Cuttle runs `Octopus.Script` actions with `Octopus.Action.Script.ScriptSource` `Inline` and ' +
  '`Octopus.Action.Script.Syntax` `Bash` or `PowerShell` (the default) on its built-in worker; ' +
  'a process holding any other action type, script source or syntax is refused with 400 when it is saved.';

const PROPERTY_NAMES =
  'Action properties Cuttle reads: `Octopus.Action.Script.ScriptBody` (the script; `#{Variable}` ' +
  'is substituted), `Octopus.Action.Script.Syntax`, `Octopus.Action.Script.ScriptSource`, ' +
  '`Octopus.Action.RunOnServer`, `Octopus.Action.ExecutionTimeout.Minutes`. Others are stored as sent.';

/** A sensitive property as sent: the new clear value, or HasValue true and no NewValue to keep the stored one. */
const SensitiveValueInput = Type.Object(
  {
    HasValue: Type.Boolean({ description: 'true: the property has a value' }),
    NewValue: Type.Optional(
      nullable('string', {}, 'the new clear value; null or absent keeps the stored one'),
    ),
  },
  {
    title: 'SensitiveValue',
    description: 'A sensitive property value; stored encrypted with the master key.',
  },
);

/** A sensitive property as answered: its value never leaves the server. */
const SensitiveValue = Type.Object(
  { HasValue: Bool, NewValue: Type.Unsafe<null>({ type: 'null', description: 'always null' }) },
  { title: 'SensitiveValue', description: 'A sensitive property: only whether it has a value is answered.' },
);

const PropertyBagInput = (description: string) =>
  Type.Unsafe<Record<string, unknown> | null>({
    type: ['object', 'null'],
    // Coercion makes a number, boolean or null the text the normalizer would store anyway.
    additionalProperties: { anyOf: [{ type: 'string' }, SensitiveValueInput] },
    description: `${description} Values are strings (numbers and booleans are stored as their text, null as ""), or a SensitiveValue.`,
  });

const PropertyBag = (description: string) =>
  Type.Record(Type.String(), Type.Union([Str, SensitiveValue]), { description });

const PackageReference = Type.Object(
  {
    Id: opt(NStr),
    Name: opt(NStr),
    PackageId: opt(NStr),
    FeedId: opt(NStr),
    AcquisitionLocation: opt(NStr),
    Properties: opt(Type.Record(Type.String(), Str)),
  },
  {
    title: 'PackageReference',
    additionalProperties: true,
    description: 'Stored as sent; Cuttle does not acquire packages.',
  },
);

const ContainerInput = Type.Unsafe<{ Image?: string | null; FeedId?: string | null } | null>({
  type: ['object', 'null'],
  properties: { Image: { type: ['string', 'null'] }, FeedId: { type: ['string', 'null'] } },
  description: 'Execution container (stored; Cuttle runs scripts on its built-in worker).',
});

const DeploymentActionInput = Type.Object(
  {
    Id: opt(nullable('string', {}, 'empty or absent for a new action: the server assigns a GUID')),
    Name: opt(nullable('string', {}, 'default: the step name')),
    Slug: opt(NStr),
    ActionType: opt(nullable('string', {}, `default Octopus.Script. ${SUPPORTED}`)),
    IsDisabled: NBool('a disabled action is skipped'),
    IsRequired: NBool(),
    Condition: opt(NStr),
    Container: opt(ContainerInput),
    WorkerPoolId: opt(NStr),
    WorkerPoolVariable: opt(NStr),
    Environments: opt(NList('run only in these environments (Ids); empty: all')),
    ExcludedEnvironments: opt(NList('never run in these environments (Ids)')),
    Channels: opt(NList()),
    TenantTags: opt(NList()),
    Packages: opt(nullable('array', { items: PackageReference })),
    CanBeUsedForProjectVersioning: NBool(),
    Properties: opt(PropertyBagInput(PROPERTY_NAMES)),
  },
  { title: 'DeploymentActionResource', additionalProperties: true, description: SUPPORTED },
);

const DeploymentStepInput = Type.Object(
  {
    Id: opt(nullable('string', {}, 'empty or absent for a new step: the server assigns a GUID')),
    Name: opt(nullable('string', {}, 'default: "Step N"')),
    Slug: opt(NStr),
    Condition: opt(
      nullable(
        'string',
        {},
        'Success (default: run when every earlier step succeeded), Failure, Always, or Variable (Properties["Octopus.Step.ConditionVariableExpression"])',
      ),
    ),
    StartTrigger: opt(nullable('string', {}, 'StartAfterPrevious (default) or StartWithPrevious')),
    PackageRequirement: opt(
      nullable(
        'string',
        {},
        'LetOctopusDecide (default), BeforePackageAcquisition or AfterPackageAcquisition',
      ),
    ),
    Properties: opt(PropertyBagInput('Step properties, e.g. Octopus.Step.ConditionVariableExpression.')),
    Actions: opt(nullable('array', { items: DeploymentActionInput }, 'the actions, run in order')),
  },
  { title: 'DeploymentStepResource', additionalProperties: true },
);

export const DeploymentProcessInput = Type.Object(
  {
    Id: opt(Str),
    SpaceId: opt(Str),
    ProjectId: opt(Str),
    Version: opt(
      Int32({ description: 'the version read; a stale one is refused with 409 (absent: no check)' }),
    ),
    Steps: Type.Array(DeploymentStepInput, { description: 'replaces every step' }),
    LastSnapshotId: opt(NStr),
    Links: opt(Type.Unknown()),
  },
  { title: 'DeploymentProcessResource', additionalProperties: true },
);

/** As sent (default: both null), so neither field is promised. */
const Container = Type.Object({ Image: opt(NStr), FeedId: opt(NStr) }, { additionalProperties: true });

const DeploymentAction = Type.Object(
  {
    Id: Str,
    Name: Str,
    ActionType: Str,
    IsDisabled: Bool,
    IsRequired: Bool,
    Condition: NStr,
    Container,
    WorkerPoolId: NStr,
    Environments: StrList,
    ExcludedEnvironments: StrList,
    Channels: StrList,
    TenantTags: StrList,
    Packages: Type.Array(PackageReference),
    Properties: PropertyBag(PROPERTY_NAMES),
  },
  { title: 'DeploymentActionResource', additionalProperties: true, description: SUPPORTED },
);

const DeploymentStep = Type.Object(
  {
    Id: Str,
    Name: Str,
    Condition: Str,
    StartTrigger: Str,
    PackageRequirement: Str,
    Properties: PropertyBag('Step properties.'),
    Actions: Type.Array(DeploymentAction),
  },
  { title: 'DeploymentStepResource', additionalProperties: true },
);

export const DeploymentProcessSchema = Type.Object(
  {
    Id: Type.String({ description: 'deploymentprocess-<ProjectId>' }),
    SpaceId: Str,
    ProjectId: Str,
    Version: Type.Integer({ description: 'incremented by every save' }),
    Steps: Type.Array(DeploymentStep),
    LastSnapshotId: NStr,
    Links,
  },
  { title: 'DeploymentProcessResource' },
);
