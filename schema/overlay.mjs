// glrun's additions to GitLab's editor schema, applied to a copy at build time (the JSON file stays
// byte-identical to GitLab's). Each entry says why.
//
// 1. `run:` steps of the form `{name, action, inputs, env}` (GitHub actions run by the step runner).
//    GitLab accepts them (GitLab 18.0 creates such jobs: gitlab-org/gitlab#551186 shows the step
//    runner, not pipeline creation, rejecting one) and GitLab's own positive schema fixture
//    `run.yml :: step_using_action` expects them to validate; the newest editor schema dropped the
//    branch.
export function applyOverlay(schema) {
  const copy = structuredClone(schema)
  const step = copy.definitions?.step
  if (step && Array.isArray(step.oneOf)) {
    step.oneOf.push({
      description: 'Run a GitHub action (experimental step runner).',
      type: 'object',
      additionalProperties: false,
      required: ['name', 'action'],
      properties: {
        name: { $ref: '#/definitions/stepName' },
        env: { $ref: '#/definitions/stepNamedStrings' },
        inputs: { $ref: '#/definitions/stepNamedValues' },
        action: { type: 'string', minLength: 1 },
      },
    })
  }
  return copy
}
