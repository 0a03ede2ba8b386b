// glrun's additions to GitLab's editor schema, applied to a copy at build time (the JSON file stays
// byte-identical to GitLab's). Each entry says why.
//
// 1. `run:` steps of the form `{name, action, inputs, env}` (GitHub actions run by the step runner).
//    GitLab accepts them (GitLab 18.0 creates such jobs: gitlab-org/gitlab#551186 shows the step
//    runner, not pipeline creation, rejecting one) and GitLab's own positive schema fixture
//    `run.yml :: step_using_action` expects them to validate; the newest editor schema dropped the
//    branch.
// 2. `artifacts:reports:annotations` as a list of paths. GitLab's backend validates every report
//    as "array of strings or string" and runs pipelines that use a list (Kitware/CMake's
//    .gitlab/artifacts.yml in our corpus does); the editor schema only allows a string.
// 3. A variable with no value (`VAR:` → null). GNOME/mutter's pipeline has one and runs on GitLab;
//    GitLab treats it as an empty string, and so does glrun.
// 4. `environment:url` with `${VAR}` in it. GitLab expands variables in the URL (documented) and
//    gitlab-org/gitlab-runner's own pipeline uses `.../${CI_COMMIT_REF_NAME}/index.html`; the
//    strict RFC 3986 `uri` format rejects the braces. The schema's own `pattern` still applies.
// 5. `coverage:` without `format: regex`. ajv checks that format with JavaScript's RegExp, but GitLab
//    validates coverage as RE2 (`RegexpValidator`: "must be a regular expression with re2 syntax"),
//    so `/(?i)total (\d+)%/` is valid and `/(?<=Total: )\d+/` is not. glrun checks RE2 itself
//    (src/pipeline/validate/coverage.ts); the schema's `^/.+/$` pattern still applies.
export function applyOverlay(schema) {
  const copy = structuredClone(schema)
  const url = copy.definitions?.job_template?.properties?.environment?.oneOf?.[1]?.properties?.url
  if (url?.format === 'uri') delete url.format
  const coverage = copy.definitions?.job_template?.properties?.coverage
  if (coverage?.format === 'regex') delete coverage.format
  for (const name of ['globalVariables', 'jobVariables', 'rulesVariables']) {
    const def = copy.definitions?.[name]?.patternProperties?.['.*']
    const scalar = def?.oneOf?.[0] ?? def
    if (Array.isArray(scalar?.type) && !scalar.type.includes('null')) scalar.type.push('null')
  }
  const reports = copy.definitions?.artifacts?.properties?.reports?.properties
  if (reports?.annotations) {
    reports.annotations = {
      description: reports.annotations.description,
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    }
  }
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
