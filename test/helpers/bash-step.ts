/** The `Steps` of a deployment process with one inline Bash `Octopus.Script` action run on the server. */
export function bashSteps(script: string, name = 'Run') {
  return [
    {
      Id: '',
      Name: name,
      Condition: 'Success',
      StartTrigger: 'StartAfterPrevious',
      PackageRequirement: 'LetOctopusDecide',
      Properties: {},
      Actions: [
        {
          Id: '',
          Name: name,
          ActionType: 'Octopus.Script',
          Properties: {
            'Octopus.Action.RunOnServer': 'true',
            'Octopus.Action.Script.ScriptSource': 'Inline',
            'Octopus.Action.Script.Syntax': 'Bash',
            'Octopus.Action.Script.ScriptBody': script,
          },
        },
      ],
    },
  ];
}
