import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, inImage, run, step, top } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { ciFacts } from './ci-facts.js'
import { parseTrace, parseTraceStream } from './trace.js'

// Review rv11 of the job_token_api_scope rule (e56af42) and the ci-facts cache / build-dependencies reread
// (889b5b4): each "finding N" case failed on the reviewed code and states the behaviour now expected; the
// "guard:" cases held then and must keep holding.

const withCi = (log: string, ciYaml: string) => diagnose({ trace: parseTrace(log), ciYaml }).diagnoses
const JT = 'job_token_api_scope'

describe('job-token.ts: wordings of the refusal it misses', () => {
  it('finding 1: GitLab\'s own allowlist refusal ("403 Forbidden - Authentication by CI/CD job token not allowed from … to …")', () => {
    const d = run(step('$ curl --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" -o tool.zip "$CI_API_V4_URL/projects/platform%2Ftools/jobs/artifacts/main/download?job=build"',
      '{"message":"403 Forbidden - Authentication by CI/CD job token not allowed from app to tools."}', 'curl: (22) The requested URL returned error: 403')).diagnoses.find((x) => x.category === JT)
    expect(d).toBeDefined()
    expect(d?.fixes[0]?.text).toContain('allowlist')
    // (git_auth_job_token outranks it today because of curl's exit-22 line: finding 17.)
  })
  it('finding 2: curl --fail prints no body, only its exit 22, for the job token\'s request to the API', () => {
    expect(top(step('$ curl --fail --silent --show-error --header "JOB-TOKEN: $CI_JOB_TOKEN" -o tool.tgz "$CI_API_V4_URL/projects/42/packages/generic/tool/1.0/tool.tgz"',
      'curl: (22) The requested URL returned error: 404'))?.category).toBe(JT)
  })
  it('finding 3: python-gitlab\'s other operations (GitlabCreateError: 403: 403 Forbidden)', () => {
    expect(top(step('$ python3 tools/publish_release.py --job-token "$CI_JOB_TOKEN" --project 42 --tag "$CI_COMMIT_TAG"',
      'Traceback (most recent call last):', '  File "/builds/app/tools/publish_release.py", line 31, in <module>',
      '    project.releases.create({"tag_name": tag, "name": tag})',
      'gitlab.exceptions.GitlabCreateError: 403: 403 Forbidden'))?.category).toBe(JT)
  })
  it('finding 4: got\'s HTTPError (semantic-release/gitlab, gitbeaker before v35) with the job token in the job\'s variables', () => {
    const d = withCi(inImage('node:20', '$ npx semantic-release',
      '[3:12:01 PM] [semantic-release] › ℹ  Start step "publish" of plugin "@semantic-release/gitlab"',
      '[3:12:02 PM] [semantic-release] [@semantic-release/gitlab] › ✘  An error occurred while making a request to the GitLab release API:',
      'HTTPError: Response code 403 (Forbidden)',
      '    at Request.<anonymous> (file:///builds/app/node_modules/got/dist/source/as-promise/index.js:92:42)'),
    'release:\n  image: node:20\n  script:\n    - npx semantic-release\n  variables:\n    GITLAB_TOKEN: $CI_JOB_TOKEN\n')
    expect(d[0]?.category).toBe(JT)
  })
  it('finding 5: release-cli (the release: keyword) authenticates with CI_JOB_TOKEN by default', () => {
    expect(top(inImage('registry.gitlab.com/gitlab-org/release-cli:latest', '$ release-cli create --name "v1.4.0" --tag-name v1.4.0 --ref "$CI_COMMIT_SHA"',
      'time="2026-03-02T10:11:12Z" level=info msg="Creating Release..." cli=release-cli command=create name=v1.4.0 project-id=42 server-url="https://gitlab.example.com" tag-name=v1.4.0 version=0.18.0',
      'time="2026-03-02T10:11:12Z" level=fatal msg="run app" cli=release-cli error="failed to create release: API Error Response status_code: 403 message: 403 Forbidden" version=0.18.0'))?.category).toBe(JT)
  })
})

describe('job-token.ts: where the token comes from', () => {
  it('finding 6: the token exported by an earlier command of the script (export GITLAB_TOKEN=$CI_JOB_TOKEN)', () => {
    expect(top(inImage('node:20', '$ export GITLAB_TOKEN=$CI_JOB_TOKEN GITLAB_TOKEN_TYPE=job', '$ pnpm changesets-gitlab comment',
      '404 Project Not Found', 'request: ', 'GitbeakerRequestError: Not Found'))?.category).toBe(JT)
  })
  it('finding 7: glab logged in with the job token by an earlier command (glab auth login --job-token)', () => {
    expect(top(step('$ glab auth login --job-token $CI_JOB_TOKEN --hostname $CI_SERVER_HOST --api-protocol https', '$ glab release create v2.0.0 -R platform/deploy-config --notes "bump"',
      'POST https://gitlab.example.com/api/v4/projects/platform%2Fdeploy-config/releases: 403 {message: 403 Forbidden}'))?.category).toBe(JT)
  })
  it('finding 8: glab\'s CI auto-login (GLAB_ENABLE_CI_AUTOLOGIN) hands it CI_JOB_TOKEN', () => {
    const d = withCi(step('$ glab release create "$CI_COMMIT_TAG" -R platform/deploy-config --notes "bump"',
      'POST https://gitlab.example.com/api/v4/projects/platform%2Fdeploy-config/releases: 403 {message: 403 Forbidden}'),
    'release:\n  image: registry.gitlab.com/gitlab-org/cli:latest\n  variables:\n    GLAB_ENABLE_CI_AUTOLOGIN: "true"\n  script:\n    - glab release create "$CI_COMMIT_TAG" -R platform/deploy-config --notes "bump"\n')
    expect(d[0]?.category).toBe(JT)
  })
  it('finding 9: --ci: the token in the job\'s variables through extends: (a hidden template)', () => {
    const d = withCi(inImage('node:20', '$ pnpm changesets-gitlab comment', '404 Project Not Found', 'request: ', 'GitbeakerRequestError: Not Found'),
      '.gitlab-bot:\n  variables:\n    GITLAB_TOKEN_TYPE: job\n    GITLAB_TOKEN: $CI_JOB_TOKEN\ncomment:\n  extends: .gitlab-bot\n  image: node:20\n  script:\n    - pnpm changesets-gitlab comment\n')
    expect(d[0]?.category).toBe(JT)
  })
})

describe('job-token.ts: refusals that are not the job token\'s', () => {
  it('finding 10: --ci: the echoed command sends a personal access token; the job token in another variable (pip\'s index URL) does not count', () => {
    const d = withCi(inImage('python:3.12', '$ pip install -r requirements.txt', '$ curl --fail-with-body --request POST --header "PRIVATE-TOKEN: $RELEASE_BOT_TOKEN" --data "tag_name=$CI_COMMIT_TAG" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/releases"',
      '{"message":"401 Unauthorized"}curl: (22) The requested URL returned error: 401'),
    'release:\n  image: python:3.12\n  variables:\n    PIP_EXTRA_INDEX_URL: https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/api/v4/projects/12/packages/pypi/simple\n  script:\n    - pip install -r requirements.txt\n    - curl --fail-with-body --request POST --header "PRIVATE-TOKEN: $RELEASE_BOT_TOKEN" --data "tag_name=$CI_COMMIT_TAG" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/releases"\n')
    expect(d.map((x) => x.category)).not.toContain(JT)
  })
  it('finding 11: --ci: a job with inherit: variables: false does not get the top-level GITLAB_TOKEN: $CI_JOB_TOKEN', () => {
    const d = withCi(inImage('alpine:3.19', '$ ./scripts/notify.sh', '{"message":"401 Unauthorized"}'),
      'variables:\n  GITLAB_TOKEN: $CI_JOB_TOKEN\nnotify:\n  image: alpine:3.19\n  inherit:\n    variables: false\n  script:\n    - ./scripts/notify.sh\n')
    expect(d.map((x) => x.category)).not.toContain(JT)
  })
  it('finding 12: a refusal in after_script (which cannot fail the job) does not outrank the script\'s own failure', () => {
    const log = ['Executing "step_script" stage of the job script', '$ npm test', 'npm ERR! Test failed.  See above for more details.',
      'Running after_script', 'Running after script...', '$ curl --silent --header "JOB-TOKEN: $CI_JOB_TOKEN" --data "body=tests failed" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"',
      '{"message":"401 Unauthorized"}', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).not.toBe(JT)
  })
  it('finding 13: in its own project a releases 403 is the role of the user who started the pipeline, not an allowlist', () => {
    const d = run(step('$ curl --fail-with-body --request POST --header "JOB-TOKEN: $CI_JOB_TOKEN" --data "tag_name=v1.0.0" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/releases"',
      '{"message":"403 Forbidden"}curl: (22) The requested URL returned error: 403')).diagnoses.find((x) => x.category === JT)
    expect(d).toBeDefined()
    expect(d?.fixes[0]?.text).not.toContain('allowlist')
    expect(all(d)).toMatch(/role|permission/i)
  })
  it('finding 14: the pipeline jobs API is one a job token never opens: the cause must not say its "jobs" are open, and the allowlist is no fix', () => {
    const d = run(step('$ curl --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/pipelines/$CI_PIPELINE_ID/jobs?scope[]=success"',
      '{"message":"401 Unauthorized"}curl: (22) The requested URL returned error: 401')).diagnoses.find((x) => x.category === JT)
    expect(d).toBeDefined()
    expect(d?.cause).not.toMatch(/artifacts and jobs/)
    expect(d?.fixes[0]?.text).not.toContain('allowlist')
  })
  it('finding 15: glab fed the job token as GITLAB_TOKEN sends it as a private token: the fix is to pass it as a job token', () => {
    const d = withCi(step('$ glab release create "$CI_COMMIT_TAG" --notes "bump"',
      'POST https://gitlab.example.com/api/v4/projects/app/releases: 401 {message: 401 Unauthorized}'),
    'release:\n  image: registry.gitlab.com/gitlab-org/cli:latest\n  variables:\n    GITLAB_TOKEN: $CI_JOB_TOKEN\n  script:\n    - glab release create "$CI_COMMIT_TAG" --notes "bump"\n')[0]
    expect(d?.category).toBe(JT)
    expect(all(d)).toMatch(/--job-token|GLAB_ENABLE_CI_AUTOLOGIN/)
  })
  it('finding 16: a 403 whose URL holds "404" (project 4042) is not told as a 404', () => {
    const d = withCi(inImage('hashicorp/terraform:1.9', '$ terraform apply -auto-approve',
      '│ Error: POST https://gitlab.example.com/api/v4/projects/4042/variables: 403 {message: 403 Forbidden}'),
    'deploy:\n  image: hashicorp/terraform:1.9\n  variables:\n    GITLAB_TOKEN: $CI_JOB_TOKEN\n  script:\n    - terraform apply -auto-approve\n')[0]
    expect(d?.category).toBe(JT)
    expect(d?.cause).not.toContain('404 Not Found')
  })
})

describe('job-token.ts next to host.ts (git_auth_job_token)', () => {
  it('finding 17: curl --fail-with-body\'s usual ending ("curl: (22) The requested URL returned error: 403") makes a REST call git\'s refusal', () => {
    const log = step('$ curl --fail-with-body --request POST --header "JOB-TOKEN: $CI_JOB_TOKEN" --form "file=@dist/app.tgz" "$CI_API_V4_URL/projects/platform%2Fshared/packages/generic/app/1.0/app.tgz"',
      '{"message":"403 Forbidden"}curl: (22) The requested URL returned error: 403')
    expect(top(log)?.category).toBe(JT)
  })
  it('guard: git\'s own "The requested URL returned error: 403" after a clone with the job token stays git_auth_job_token', () => {
    expect(top(step('$ git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/platform/shared.git', "Cloning into 'shared'...",
      "fatal: unable to access 'https://gitlab.example.com/platform/shared.git/': The requested URL returned error: 403"))?.category).toBe('git_auth_job_token')
  })
})

describe('job-token.ts: long lines', () => {
  it('finding 18: a line of 80 000 characters of API paths without spaces is read in linear time', () => {
    expectLinear((k) => { const log = step('$ ./build.sh', '/api/v4/'.repeat(sized(10_000, k))); return () => cats(log) })
  })
})

describe('guards: job-token.ts', () => {
  it('guard: curl\'s JSON body with JOB-TOKEN to another project\'s package still answers, allowlist first', () => {
    const d = top(step('$ curl --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/42/packages/generic/tool/1.0/tool.tgz" -o tool.tgz', '{"message":"404 Project Not Found"}', 'curl: (22) The requested URL returned error: 404'))
    expect(d?.category).toBe(JT)
    expect(d?.fixes[0]?.text).toContain('allowlist')
  })
  it('guard: python-gitlab with job_token= and a 404 on another project', () => {
    expect(top(step('$ python3 -c "import gitlab,os; gl=gitlab.Gitlab(os.environ[\'CI_SERVER_URL\'], job_token=os.environ[\'CI_JOB_TOKEN\']); gl.projects.get(\'platform/tools\')"',
      'gitlab.exceptions.GitlabGetError: 404: 404 Project Not Found'))?.category).toBe(JT)
  })
  it('guard: a deploy token\'s refusal is not the job token\'s', () => {
    expect(cats(step('$ curl --fail-with-body --header "Deploy-Token: $DEPLOY_TOKEN" "$CI_API_V4_URL/projects/42/packages/generic/tool/1.0/tool.tgz"', '{"message":"401 Unauthorized"}'))).not.toContain(JT)
  })
  it('guard: a missing package with the job token (404 Package Not Found) is not a scope refusal', () => {
    expect(cats(step('$ curl --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/tool/9.9/tool.tgz"', '{"message":"404 Package Not Found"}'))).not.toContain(JT)
  })
  it('guard: a refusal the script went past (|| true, then another command) is not the answer', () => {
    expect(cats(step('$ curl --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/42/releases" || true', '{"message":"404 Project Not Found"}', '$ npm test', 'npm ERR! Test failed.'))).not.toContain(JT)
  })
  it('guard: git over HTTPS with the job token stays git_auth_job_token\'s', () => {
    expect(cats(step('$ git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/platform/tools.git', 'Cloning into \'tools\'...', 'remote: Authentication by CI/CD job token not allowed from app to tools.', 'fatal: unable to access \'https://gitlab.example.com/platform/tools.git/\': The requested URL returned error: 403'))).not.toContain(JT)
  })
  it('guard: the streaming reader gives the same answer for a long log', async () => {
    const filler = Array.from({ length: 12_000 }, (_, i) => `compiling module ${i} ok`).join('\n')
    const log = step('$ npm ci', filler, '$ curl --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/42/packages/generic/tool/1.0/tool.tgz" -o tool.tgz', '{"message":"404 Project Not Found"}', 'curl: (22) The requested URL returned error: 404')
    async function* chunks() { for (let i = 0; i < log.length; i += 4093) yield log.slice(i, i + 4093) }
    const streamed = diagnose({ trace: await parseTraceStream(chunks()) }).diagnoses.map((x) => x.category)
    expect(streamed).toEqual(cats(log))
    expect(streamed[0]).toBe(JT)
  })
})

describe('guards: ci-facts.ts cache and variables', () => {
  it('guard: two YAMLs in a row each get their own facts (no stale cache)', () => {
    const a = 'a:\n  script:\n    - make\n  variables:\n    T: $CI_JOB_TOKEN\n'
    const b = 'b:\n  script:\n    - make\n  variables:\n    T: $OTHER\n'
    expect(ciFacts(a)?.jobs[0]?.variables['T']).toBe('$CI_JOB_TOKEN')
    expect(ciFacts(b)?.jobs[0]?.variables['T']).toBe('$OTHER')
    expect(ciFacts(a)?.jobs[0]?.name).toBe('a')
  })
  it('guard: the same log diagnosed with and then without a YAML does not keep the YAML\'s answer', () => {
    const ciYaml = 'comment:\n  image: node:20\n  script:\n    - pnpm changesets-gitlab comment\n  variables:\n    GITLAB_TOKEN: $CI_JOB_TOKEN\n'
    const log = '$ pnpm changesets-gitlab comment\n404 Project Not Found\nrequest: \nGitbeakerRequestError: Not Found\nERROR: Job failed: exit code 1'
    expect(withCi(log, ciYaml)[0]?.category).toBe(JT)
    expect(diagnose({ trace: parseTrace(log) }).diagnoses.map((x) => x.category)).not.toContain(JT)
    expect(withCi(log, ciYaml.replace('$CI_JOB_TOKEN', '$BOT_TOKEN')).map((x) => x.category)).not.toContain(JT)
  })
  it('guard: job variables override the top-level ones', () => {
    expect(ciFacts('variables:\n  T: $CI_JOB_TOKEN\nj:\n  script: [make]\n  variables:\n    T: $BOT\n')?.jobs[0]?.variables['T']).toBe('$BOT')
  })
})

describe('guards: build-dependencies.ts with Scan.wentPast', () => {
  it('guard: a missing header in the failing step still answers; one the script went past does not', () => {
    const failing = step('$ make', 'src/main.c:3:10: fatal error: openssl/ssl.h: No such file or directory', 'compilation terminated.', 'make: *** [Makefile:5: main.o] Error 1')
    expect(cats(failing)[0]).toBe('dev_headers_missing')
    const past = step('$ make || echo "optional tool skipped"', 'src/main.c:3:10: fatal error: openssl/ssl.h: No such file or directory', 'optional tool skipped', '$ npm test', 'npm ERR! Test failed.')
    expect(cats(past)).not.toContain('dev_headers_missing')
  })
})

describe('ci-facts.ts: extends: is untrusted input', () => {
  it('a cycle of templates contributes nothing and does not hang', () => {
    const facts = ciFacts('.a:\n  extends: .b\n  variables:\n    A: "1"\n.b:\n  extends: .a\n  variables:\n    B: "2"\nj:\n  extends: .a\n  script: [make]\n')
    expect(facts?.jobs[0]?.variables).toEqual({ A: '1', B: '2' })
  })
  it('a lattice of templates, each extending the two before it, is read in linear time', () => {
    const n = 40
    const yaml = Array.from({ length: n }, (_, i) => `.t${i}:\n  ${i >= 2 ? `extends: [.t${i - 1}, .t${i - 2}]\n  ` : ''}variables:\n    V${i}: "${i}"\n`).join('') +
      `j:\n  extends: .t${n - 1}\n  script: [make]\n`
    // Walked without deduplication, the lattice has Fibonacci(40) paths: this would not return. The bound is
    // the test's own timeout, not a figure in milliseconds.
    const vars = ciFacts(yaml)?.jobs[0]?.variables ?? {}
    // GitLab stops at 11 levels of extends; what is deeper is not read.
    expect(vars['V39']).toBe('39')
    expect(Object.keys(vars).length).toBeLessThan(n)
  })
  it('inherit: default: false keeps default:\'s image off the job', () => {
    const facts = ciFacts('default:\n  image: node:20\nj:\n  inherit:\n    default: false\n  script: [make]\n')
    expect(facts?.jobs[0]?.image).toBeUndefined()
  })
  it('inherit: variables: [A] keeps only A of the top-level variables', () => {
    expect(ciFacts('variables:\n  A: "1"\n  B: "2"\nj:\n  inherit:\n    variables: [A]\n  script: [make]\n')?.jobs[0]?.variables).toEqual({ A: '1' })
  })
})
