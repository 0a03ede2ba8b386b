import { describe, expect, it } from 'vitest'
import { cats, step, top } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

// job-token.ts: GitLab's REST API refusing CI_JOB_TOKEN (job_token_api_scope). The answers are GitLab's own
// JSON bodies as curl prints them and the client libraries' error names.

describe('job-token.ts', () => {
  it('curl with JOB-TOKEN to another project\'s API', () => {
    const d = top(step('$ curl --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/42/packages/generic/tool/1.0/tool.tgz" -o tool.tgz', '{"message":"404 Project Not Found"}', 'curl: (22) The requested URL returned error: 404'))
    expect(d?.category).toBe('job_token_api_scope')
    expect(d?.fixes[0]?.text).toContain('allowlist')
  })
  it('--ci: a tool fed the job token through the job\'s variables', () => {
    const ciYaml = 'changesets_comment:\n  image: node:20\n  script:\n    - pnpm changesets-gitlab comment\n  variables:\n    GITLAB_TOKEN_TYPE: job\n    GITLAB_TOKEN: $CI_JOB_TOKEN\n'
    const d = diagnose({ trace: parseTrace('404 Project Not Found\nrequest: \nGitbeakerRequestError: Not Found'), ciYaml }).diagnoses[0]
    expect(d?.category).toBe('job_token_api_scope')
    expect(d?.cause).toContain('changesets_comment')
  })
  it('guard: the same refusal with an access token is not the job token\'s', () => {
    expect(cats(step('$ curl --header "PRIVATE-TOKEN: $API_TOKEN" "$CI_API_V4_URL/projects/42"', '{"message":"404 Project Not Found"}'))).not.toContain('job_token_api_scope')
  })
  it('guard: another job of the YAML feeding the token does not count', () => {
    const ciYaml = 'release:\n  image: node:20\n  script:\n    - npx semantic-release\n  variables:\n    GITLAB_TOKEN: $CI_JOB_TOKEN\nnotify:\n  image: alpine\n  script:\n    - ./notify.sh\n  variables:\n    GITLAB_TOKEN: $BOT_TOKEN\n'
    expect(diagnose({ trace: parseTrace('$ ./notify.sh\n{"message":"401 Unauthorized"}\nERROR: Job failed: exit code 1'), ciYaml }).diagnoses.map((x) => x.category)).not.toContain('job_token_api_scope')
  })
})
