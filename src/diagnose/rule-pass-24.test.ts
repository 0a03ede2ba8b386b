import { describe, expect, it } from 'vitest'
import { all, cats, on, step, top } from '../../test/support/diagnose-log.js'

// The twenty-fourth rule pass (batch 24's dev entries: data/ML, security scanners, databases, runner operators).
// Each new wording, and what must not be read as it.

describe('gpu_unavailable_in_job (gpu.ts)', () => {
  it('the daemon without an NVIDIA runtime: the runner config and the toolkit', () => {
    const d = top(on('docker', '$ docker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi', 'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(all(d)).toMatch(/gpus = "all"/)
  })
  it('nvidia-smi missing in the job outranks a plain missing command', () => {
    expect(cats(step('$ nvidia-smi', '/usr/bin/bash: line 138: nvidia-smi: command not found')).slice(0, 2)).toEqual(['gpu_unavailable_in_job', 'command_not_found'])
  })
  it('PyTorch without a driver, on the Kubernetes executor: a GPU resource on the pod', () => {
    const d = top(on('kubernetes', '$ python train.py', 'RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(all(d)).toMatch(/nvidia\.com\/gpu/)
  })
  it('guard: an nvidia-smi probe the script went past is not the answer', () => {
    expect(cats(step('$ nvidia-smi || true', 'sh: 1: nvidia-smi: not found', '$ npm test', 'AssertionError: expected 1 to equal 2'))[0]).not.toBe('gpu_unavailable_in_job')
  })
})

describe('testcontainers_ryuk_unreachable (testcontainers.ts)', () => {
  it('Java\'s and .NET\'s wordings', () => {
    expect(cats(step('$ ./gradlew test', 'java.lang.IllegalStateException: Could not connect to Ryuk at 172.17.0.1:32768'))[0]).toBe('testcontainers_ryuk_unreachable')
    const d = top(step('$ dotnet test', '  Error Message:', '  DotNet.Testcontainers.Containers.ResourceReaperException : Initialization has been cancelled.'))
    expect(d?.category).toBe('testcontainers_ryuk_unreachable')
    expect(all(d)).toMatch(/TESTCONTAINERS_RYUK_DISABLED/)
  })
})

describe('gitlab_api_token_invalid (gitlab-api-token.ts)', () => {
  it('a 401 from GitLab\'s API for a tool\'s token', () => {
    const d = top(step('$ sonar-scanner', 'ERROR: Caused by: Server returned HTTP response code: 401 for URL: https://gitlab.example.com/api/v4/projects/12'))
    expect(d?.category).toBe('gitlab_api_token_invalid')
    expect(all(d)).toMatch(/api \(or read_api\) scope/)
  })
  it('guard: the job token\'s refusal is not this class', () => {
    expect(cats(step('$ curl --fail -H "JOB-TOKEN: $CI_JOB_TOKEN" https://gitlab.example.com/api/v4/projects/12/releases', 'Server returned HTTP response code: 403 for URL: https://gitlab.example.com/api/v4/projects/12/releases'))[0]).not.toBe('gitlab_api_token_invalid')
  })
  it('the SonarQube GitLab plugin\'s bare project-builder failure: token, plugin version, server in that order', () => {
    expect(cats(step('$ ./gradlew sonarqube', "Execution failed for task ':sonarqube'.", '> Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder')).slice(0, 3))
      .toEqual(['gitlab_api_token_invalid', 'toolchain_version_too_old', 'gitlab_server_error'])
  })
  it('the plugin\'s "GitLab is not responding" puts the server first', () => {
    expect(cats(step('$ gitlab-sonar-scanner', 'ERROR: Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder', 'ERROR: Caused by: Unable to perform GitLab WS operation', 'ERROR: Caused by: GitLab is not responding'))[0]).toBe('gitlab_server_error')
  })
  it('guard: the plugin\'s own reason (a scanner mode it refuses) is not an API failure', () => {
    const c = cats(step('$ sonar-scanner', 'ERROR: Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder', "ERROR: Caused by: The GitLab plugin is only intended to be used in preview or issues mode. Please set 'sonar.analysis.mode'."))
    expect(c.slice(0, 1)).not.toEqual(['gitlab_api_token_invalid'])
  })
})

describe('other wordings of the pass', () => {
  it('conda\'s own out-of-memory error', () => {
    expect(cats(step('$ conda env create -f environment.yaml', 'Verifying transaction: ...working... failed', 'CondaMemoryError: The conda process ran out of memory. Increase system memory and/or try again.'))[0]).toBe('oom_killed')
  })
  it('a CI variable a tool quotes by name on a shell runner: cmd did not expand it', () => {
    const d = top(on('shell', '$ git merge $CI_BUILD_REF --no-commit --no-ff', 'merge: $CI_BUILD_REF - not something we can merge'))
    expect(d?.category).toBe('shell_mismatch')
    expect(all(d)).toMatch(/%CI_COMMIT_SHA%/)
  })
  it('guard: not in a Linux container, nor for a variable the command single-quoted', () => {
    expect(cats(on('docker', '$ git merge $CI_BUILD_REF --no-commit', 'merge: $CI_BUILD_REF - not something we can merge'))[0]).not.toBe('shell_mismatch')
    expect(cats(on('shell', "$ git merge '$CI_BUILD_REF' --no-commit", 'merge: $CI_BUILD_REF - not something we can merge'))[0]).not.toBe('shell_mismatch')
  })
  it('a tool image\'s wrapper calling a file the image lacks: the image changed under its tag', () => {
    expect(cats(step('$ anchore-cli system wait', '/usr/local/bin/anchore-cli: line 3: /docker-entrypoint.sh: No such file or directory'))[0]).toBe('broken_tool_version')
  })
  it('guard: a wrapper missing a file of the checkout is not the image', () => {
    expect(cats(step('$ run-tests', '/usr/local/bin/run-tests: line 3: /builds/acme/app/scripts/test.sh: No such file or directory'))[0]).not.toBe('broken_tool_version')
  })
  it('kind nested in a Kubernetes build pod', () => {
    expect(cats(on('kubernetes', '$ kind create cluster', ' ✗ Starting control-plane 🕹️', 'Error: failed to create cluster: failed to init node with kubeadm: exit status 1'))[0]).toBe('dind_unsupported_on_runner')
  })
})

describe('reread: the "went past" check of detached-head.ts and before-sha.ts is Scan.wentPast', () => {
  it('after_script\'s commands do not silence a detached-HEAD refusal that ended the script', () => {
    const log = ['Executing "step_script" stage of the job script', '$ npx lerna version --yes', 'lerna ERR! ENOGIT Detached git HEAD, please checkout a branch to choose versions.',
      'Running after_script', 'Running after script...', '$ echo cleanup', 'cleanup', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(cats(log)[0]).toBe('git_detached_head')
  })
  it('guard: a refusal the script went past (|| fallback) is still not the answer', () => {
    expect(cats(step('$ git push origin HEAD:main || echo skipped', 'fatal: You are not currently on a branch.', 'skipped', '$ npm test', 'AssertionError: expected 1 to equal 2'))[0]).not.toBe('git_detached_head')
  })
})
