import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, on, top } from '../../test/support/diagnose-log.js'
import { RULES } from './engine.js'
import { parseTrace } from './trace.js'

// Review rv14 of the twenty-fourth rule pass (7291738) and of rv13's mends (673bd7f), mended after. Each "F<n>" case failed on
// 7291738 and states the behaviour expected; "guard:" cases hold now and must keep holding when the finding is mended.

const log = (...lines: string[]): string => lines.join('\n')
const shellRunner = (shell: string, ...lines: string[]): string => log(
  'Running with gitlab-runner 17.5.0 (c6eae8ea)', 'Preparing the "shell" executor', `Using Shell (${shell}) executor...`, ...lines, 'ERROR: Job failed: exit status 1')

describe('gpu.ts', () => {
  it('F1: PyTorch\'s "CUDA initialization: Found no NVIDIA driver" UserWarning (torch.cuda.is_available() on a CPU runner) is not why a test failed', () => {
    const c = cats(on('docker', '$ pytest tests/', 'tests/test_model.py::test_shapes PASSED',
      '/usr/local/lib/python3.11/site-packages/torch/cuda/__init__.py:141: UserWarning: CUDA initialization: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx (Triggered internally at ../c10/cuda/CUDAFunctions.cpp:108.)',
      '  return torch._C._cuda_getDeviceCount() > 0',
      'FAILED tests/test_model.py::test_loss - AssertionError: assert 0.52 < 0.5', '==== 1 failed, 12 passed in 3.21s ===='))
    expect(c[0]).not.toBe('gpu_unavailable_in_job')
  })
  it('guard: PyTorch raising the same words (RuntimeError) stays the answer', () => {
    expect(cats(on('docker', '$ python train.py', 'RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx'))[0]).toBe('gpu_unavailable_in_job')
  })
  it('F2: an nvidia-smi probe in after_script cannot have failed the job', () => {
    const c = cats(log('Preparing the "docker" executor', 'Executing "step_script" stage of the job script', '$ npm test', 'AssertionError: expected 1 to equal 2',
      'Running after_script', 'Running after script...', '$ nvidia-smi', '/usr/bin/bash: line 150: nvidia-smi: command not found', 'ERROR: Job failed: exit code 1'))
    expect(c[0]).not.toBe('gpu_unavailable_in_job')
  })
  it('F3: nvidia-smi missing as the Kubernetes executor\'s script file and PowerShell word it', () => {
    expect(cats(on('kubernetes', '$ nvidia-smi', '/scripts-38193414-5212233/step_script: line 168: nvidia-smi: command not found'))[0]).toBe('gpu_unavailable_in_job')
    expect(cats(on('shell', '$ nvidia-smi', "nvidia-smi : The term 'nvidia-smi' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."))[0]).toBe('gpu_unavailable_in_job')
  })
  it('F4: CUDA\'s "no CUDA-capable device is detected" (PyTorch\'s RuntimeError) and nvidia-smi\'s NVML failures are a GPU the job cannot use', () => {
    expect(cats(on('docker', '$ python train.py', 'RuntimeError: CUDA error: no CUDA-capable device is detected'))[0]).toBe('gpu_unavailable_in_job')
    expect(cats(on('docker', '$ nvidia-smi', 'Failed to initialize NVML: Driver/library version mismatch'))[0]).toBe('gpu_unavailable_in_job')
  })
  it('F5: the NVIDIA runtime hook without a host driver (libnvidia-ml.so.1) is the GPU setup, ranked above a broken Docker engine', () => {
    const c = cats(on('docker', '$ docker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi',
      "docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy'",
      'nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory: unknown.'))
    expect(c[0]).toBe('gpu_unavailable_in_job')
  })
  it('F6: the runner\'s runtime = "nvidia" on a daemon without that runtime is the GPU setup', () => {
    const c = cats(log('Preparing the "docker" executor', 'ERROR: Job failed (system failure): Error response from daemon: unknown or invalid runtime name: nvidia (docker.go:958:0s)'))
    expect(c[0]).toBe('gpu_unavailable_in_job')
  })
  it('F7: the daemon\'s "could not select device driver" on a shell runner is the Container Toolkit, not the host driver', () => {
    const d = top(on('shell', '$ docker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi', 'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(`${d?.fixes[0]?.text ?? ''}\n${d?.fixes[0]?.snippet ?? ''}`).toMatch(/Container Toolkit|nvidia-ctk/)
  })
  it('F8: with a dind service the daemon refusing --gpus is the dind service\'s, not the runner host\'s', () => {
    const d = top(log('Running with gitlab-runner 17.5.0 (c6eae8ea)', 'Preparing the "docker" executor', 'Using Docker executor with image docker:24 ...', 'Starting service docker:24-dind ...',
      'Executing "step_script" stage of the job script', '$ docker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi',
      'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].', 'ERROR: Job failed: exit code 125'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(all(d)).toMatch(/dind/)
  })
})

describe('testcontainers.ts', () => {
  it('F9: Node\'s and Go\'s wordings of the same Ryuk failure', () => {
    expect(cats(on('docker', '$ npm test', 'Error: Failed to connect to Reaper', '    at /builds/acme/app/node_modules/testcontainers/build/reaper/reaper.js:92:20'))[0]).toBe('testcontainers_ryuk_unreachable')
    expect(cats(on('docker', '$ go test ./...', '    db_test.go:21: dial tcp 172.17.0.1:49153: i/o timeout: Connecting to Ryuk on 172.17.0.1:49153 failed', 'FAIL\tgitlab.example.com/acme/app/db\t12.011s'))[0]).toBe('testcontainers_ryuk_unreachable')
  })
  it('F10: a Testcontainers run the script went past (|| echo) is not why a later command failed', () => {
    const c = cats(on('docker', '$ ./gradlew integrationTest || echo "integration tests are optional"', 'java.lang.IllegalStateException: Could not connect to Ryuk at 172.17.0.1:32768', 'integration tests are optional',
      '$ ./gradlew check', '> Task :compileJava FAILED', '/builds/acme/app/src/main/java/App.java:3: error: cannot find symbol', 'BUILD FAILED in 12s'))
    expect(c[0]).not.toBe('testcontainers_ryuk_unreachable')
  })
  it('F11: the dind fix on port 2375 also turns dind\'s TLS off (DOCKER_TLS_CERTDIR: ""), as Testcontainers\' GitLab guide does', () => {
    const d = top(on('docker', '$ ./gradlew test', 'java.lang.IllegalStateException: Could not connect to Ryuk at 172.17.0.1:32768'))
    expect(d?.category).toBe('testcontainers_ryuk_unreachable')
    expect(all(d)).toMatch(/DOCKER_TLS_CERTDIR: ""/)
  })
  it('guard: Java\'s wording under a dind service stays the answer', () => {
    expect(cats(log('Preparing the "docker" executor', 'Starting service docker:24-dind ...', 'Executing "step_script" stage of the job script', '$ ./gradlew test',
      'java.lang.IllegalStateException: Could not connect to Ryuk at docker:32768', 'ERROR: Job failed: exit code 1'))[0]).toBe('testcontainers_ryuk_unreachable')
  })
})

describe('gitlab-api-token.ts', () => {
  it('F12: a 401 from GitHub Enterprise\'s /api/v3/ is not a GitLab token', () => {
    const c = cats(on('docker', '$ java -jar release-notes.jar', 'Exception in thread "main" java.io.IOException: Server returned HTTP response code: 401 for URL: https://github.example.com/api/v3/repos/acme/app/releases'))
    expect(c[0]).not.toBe('gitlab_api_token_invalid')
  })
  it('guard: the same wording for the GitLab host\'s /api/v4/ stays the answer', () => {
    expect(cats(on('docker', '$ java -jar mr-comment.jar', 'Exception in thread "main" java.io.IOException: Server returned HTTP response code: 401 for URL: https://gitlab.example.com/api/v4/projects/12/merge_requests/4/notes'))[0]).toBe('gitlab_api_token_invalid')
  })
  it('F13: the plugin\'s older package (com.synaptix.sonar.plugins.gitlab, the releases that speak API v3) is read as the same builder failure', () => {
    expect(cats(on('docker', '$ mvn sonar:sonar -Dsonar.analysis.mode=preview',
      '[ERROR] Failed to execute goal org.sonarsource.scanner.maven:sonar-maven-plugin:3.4.0.905:sonar (default-cli) on project app: Failed to execute project builder: com.synaptix.sonar.plugins.gitlab.CommitProjectBuilder -> [Help 1]'))).toContain('gitlab_api_token_invalid')
    expect(cats(on('docker', '$ sonar-scanner', 'ERROR: Failed to execute project builder: com.synaptix.sonar.plugins.gitlab.CommitProjectBuilder', 'ERROR: Caused by: Unable to perform GitLab WS operation',
      'ERROR: Caused by: Server returned HTTP response code: 404 for URL: https://gitlab.example.com/api/v3/projects?access_token=xxxx'))[0]).toBe('toolchain_version_too_old')
  })
  it('F14: the plugin\'s plainer "Unable found project for <id>" (releases before "Verify Configuration") is the same token/visibility failure', () => {
    expect(cats(on('docker', '$ sonar-scanner', 'ERROR: Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder', 'ERROR: Caused by: Unable found project for acme/app'))[0]).toBe('gitlab_api_token_invalid')
  })
  it('F15: the plugin\'s own configuration errors (no sonar.gitlab.project_id; a name matching several projects) name the setting', () => {
    const missing = top(on('docker', '$ sonar-scanner', 'ERROR: Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder', 'ERROR: Caused by: Unable found project for null project name. Set Configuration sonar.gitlab.project_id'))
    expect(missing?.category).not.toBe('user_script_failure')
    expect(all(missing)).toMatch(/sonar\.gitlab\.project_id/)
    const several = top(on('docker', '$ sonar-scanner', 'ERROR: Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder', 'ERROR: Caused by: Multiple found projects for app'))
    expect(several?.category).not.toBe('user_script_failure')
    expect(all(several)).toMatch(/sonar\.gitlab\.project_id/)
  })
  it('F16: an API refusal in after_script did not fail the job', () => {
    const c = cats(log('Preparing the "docker" executor', 'Executing "step_script" stage of the job script', '$ ./gradlew test', 'FAILURE: Build failed with an exception.',
      'Running after_script', 'Running after script...', '$ java -jar mr-comment.jar',
      'Exception in thread "main" java.io.IOException: Server returned HTTP response code: 401 for URL: https://gitlab.example.com/api/v4/projects/12/merge_requests/4/notes', 'ERROR: Job failed: exit code 1'))
    expect(c[0]).not.toBe('gitlab_api_token_invalid')
  })
})

describe('unexpanded-variables.ts', () => {
  it('F17: BuildKit quoting a Dockerfile\'s ${CI_JOB_TOKEN} on a bash shell runner is not cmd leaving a variable unexpanded', () => {
    const c = cats(shellRunner('bash', 'Executing "step_script" stage of the job script', '$ docker build --build-arg CI_JOB_TOKEN=$CI_JOB_TOKEN -t app .',
      '#7 [3/5] RUN git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/acme/lib.git',
      "#7 0.412 fatal: could not read Username for 'https://gitlab.example.com': No such device or address",
      'ERROR: failed to solve: process "/bin/sh -c git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/acme/lib.git" did not complete successfully: exit code: 128'))
    expect(c).not.toContain('shell_mismatch')
  })
  it('guard: a cmd shell runner handing git the name stays shell_mismatch', () => {
    expect(cats(shellRunner('cmd', 'Executing "step_script" stage of the job script', '$ git merge $CI_BUILD_REF --no-commit --no-ff', 'merge: $CI_BUILD_REF - not something we can merge'))[0]).toBe('shell_mismatch')
  })
  it('F18: cost — one commandAt scan per quoted-variable line is quadratic on a long log', () => {
    const rule = RULES.find((r) => r.id === 'unexpanded-variables')
    expect(rule).toBeDefined()
    expectLinear((k) => {
      const lines = ['Preparing the "shell" executor', 'Executing "step_script" stage of the job script', '$ ./check.sh "$CI_COMMIT_SHA"']
      for (let i = 0; i < sized(80000, k); i++) lines.push(`compiling unit ${i}`)
      for (let i = 0; i < sized(12000, k); i++) lines.push(`error: $CI_COMMIT_SHA is not a valid ref (${i})`)
      lines.push('ERROR: Job failed: exit status 1')
      const trace = parseTrace(lines.join('\n'))
      return () => rule?.match({ trace }) // a new Evidence each time: Scan.of keeps its work per Evidence
    })
  }, 60000)
})

describe('image-scripts.ts', () => {
  it('F19: the job\'s own shell (bash running a script path) is not an image\'s wrapper', () => {
    expect(cats(on('docker', '$ /opt/app/run.sh', '/usr/bin/bash: line 142: /opt/app/run.sh: No such file or directory'))[0]).not.toBe('broken_tool_version')
  })
  it('F20: a checkout outside /builds (shell executor, a custom builds_dir) is not a file of the image', () => {
    expect(cats(on('shell', '$ run-tests', '/usr/local/bin/run-tests: line 3: /home/gitlab-runner/builds/t3_abc/0/acme/app/scripts/test.sh: No such file or directory'))[0]).not.toBe('broken_tool_version')
    expect(cats(log('Preparing the "docker" executor', 'Executing "get_sources" stage of the job script', 'Initialized empty Git repository in /mnt/ci/builds/acme/app/.git/',
      'Executing "step_script" stage of the job script', '$ run-tests', '/usr/local/bin/run-tests: line 3: /mnt/ci/builds/acme/app/scripts/test.sh: No such file or directory', 'ERROR: Job failed: exit code 1'))[0]).not.toBe('broken_tool_version')
  })
  it('F21: files the runtime mounts (a service-account token, dind\'s client certificates) are not the image\'s', () => {
    expect(cats(on('kubernetes', '$ kube-login', '/usr/local/bin/kube-login: line 4: /var/run/secrets/kubernetes.io/serviceaccount/token: No such file or directory'))[0]).not.toBe('broken_tool_version')
    expect(cats(on('docker', '$ docker-login', '/usr/local/bin/docker-login: line 2: /certs/client/ca.pem: No such file or directory'))[0]).not.toBe('broken_tool_version')
  })
  it('F22: dash\'s and BusyBox ash\'s wording of the same wrapper (#!/bin/sh tool images)', () => {
    expect(cats(on('docker', '$ anchore-cli system wait', '/usr/local/bin/anchore-cli: 3: /docker-entrypoint.sh: not found'))[0]).toBe('broken_tool_version')
    expect(cats(on('docker', '$ anchore-cli system wait', '/usr/local/bin/anchore-cli: line 3: /docker-entrypoint.sh: not found')).slice(0, 2)).toContain('broken_tool_version')
  })
  it('guard: bash\'s wording of the wrapper stays broken_tool_version', () => {
    expect(cats(on('docker', '$ anchore-cli system wait', '/usr/local/bin/anchore-cli: line 3: /docker-entrypoint.sh: No such file or directory'))[0]).toBe('broken_tool_version')
  })
})

describe('dind.ts: kind', () => {
  it('F23: a kind cluster the script went past (|| fallback) is not why a later command failed', () => {
    const c = cats(on('docker', '$ kind create cluster || echo "kind unavailable, using remote cluster"',
      'ERROR: failed to create cluster: failed to init node with kubeadm: command "docker exec --privileged kind-control-plane kubeadm init --skip-phases=preflight --config=/kind/kubeadm.conf --skip-token-print --v=6" failed with error: exit status 1',
      'kind unavailable, using remote cluster', '$ kubectl apply -f k8s/', 'error: error validating "k8s/deploy.yaml": error validating data: ValidationError(Deployment.spec): missing required field "selector"'))
    expect(c[0]).not.toBe('dind_unsupported_on_runner')
  })
  it('guard: kind in a Kubernetes build pod stays the answer', () => {
    expect(cats(on('kubernetes', '$ kind create cluster', 'ERROR: failed to create cluster: failed to init node with kubeadm: command "docker exec --privileged kind-control-plane kubeadm init" failed with error: exit status 1'))[0]).toBe('dind_unsupported_on_runner')
  })
})

describe('673bd7f: cloud-endpoints.ts', () => {
  it('F24: a real region missing from the closed list (ap-east-2, Asia Pacific (Taipei)) is not called "not an AWS region"', () => {
    const d = top(on('docker', '$ aws ecr get-login-password --region ap-east-2', 'Could not connect to the endpoint URL: "https://api.ecr.ap-east-2.amazonaws.com/"'))
    expect(d?.category).toBe('dns_resolution_failure')
    expect(all(d)).not.toMatch(/not an AWS region/)
  })
  it('guard: a typo of a region is still questioned', () => {
    expect(all(top(on('docker', '$ aws ecr get-login-password --region eu-wets-1', 'Could not connect to the endpoint URL: "https://api.ecr.eu-wets-1.amazonaws.com/"')))).toMatch(/not an AWS region/)
  })
  it('F25: the aws s3 commands\' "fatal error: Could not connect to the endpoint URL" is the same endpoint failure', () => {
    expect(cats(on('docker', '$ aws s3 sync dist/ s3://acme-site/ --region eu-wets-1', 'fatal error: Could not connect to the endpoint URL: "https://acme-site.s3.eu-wets-1.amazonaws.com/?list-type=2&prefix=&encoding-type=url"'))[0]).toBe('dns_resolution_failure')
  })
})

describe('673bd7f: rate-limits.ts', () => {
  it('F26: a test asserting on GitHub\'s message is not the job throttled', () => {
    const c = cats(on('docker', '$ go test ./...', '--- FAIL: TestClientRetries (0.01s)', '    client_test.go:88: got error "API rate limit exceeded for 203.0.113.7.", want nil', 'FAIL\tgitlab.example.com/acme/ghsync/client\t0.214s'))
    expect(c[0]).not.toBe('registry_rate_limited')
  })
  it('guard: GitHub\'s JSON body from curl stays registry_rate_limited', () => {
    expect(cats(on('docker', '$ curl -sf https://api.github.com/repos/acme/tool/releases/latest',
      '{"message":"API rate limit exceeded for 203.0.113.7. (But here\'s the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}'))[0]).toBe('registry_rate_limited')
  })
})

describe('673bd7f: toolchain.ts', () => {
  it('F27: the enforcer on Java 8 writes the update with a dash ("Detected JDK Version: 1.8.0-292")', () => {
    const d = top(on('docker', '$ mvn -B verify', '[WARNING] Rule 0: org.apache.maven.plugins.enforcer.RequireJavaVersion failed with message:', 'Detected JDK Version: 1.8.0-292 is not in the allowed range [11,).',
      '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-enforcer-plugin:3.0.0:enforce (enforce-java) on project app: Some Enforcer rules have failed. Look above for specific messages explaining why the rule failed. -> [Help 1]'))
    expect(d?.category).toBe('toolchain_version_too_old')
    expect(d?.title).not.toMatch(/newer/)
  })
  it('guard: an upper bound of the range still reads as too new', () => {
    expect(top(on('docker', '$ mvn -B verify', '[WARNING] Rule 0: org.apache.maven.plugins.enforcer.RequireJavaVersion failed with message:', 'Detected JDK Version: 21.0.2 is not in the allowed range [11,17].'))?.title).toMatch(/newer/)
  })
})

describe('673bd7f: host.ts (changesets)', () => {
  it('F28: today\'s changesets quotes the branch (Failed to find where HEAD diverged from "main")', () => {
    const d = top(on('docker', '$ npx changeset status --since=main', '🦋  error Error: Failed to find where HEAD diverged from "main". Does "main" exist and it\'s synced with remote?'))
    expect(d?.category).toBe('shallow_clone_missing_ref')
    expect(all(d)).toMatch(/git fetch origin main:main/)
  })
  it('guard: the older unquoted wording keeps its answer', () => {
    expect(top(on('docker', '$ npx changeset status --since=main', '🦋  error Error: Failed to find where HEAD diverged from main. Does main exist?'))?.category).toBe('shallow_clone_missing_ref')
  })
})

describe('673bd7f: Scan.onWindows()', () => {
  const denied = (shell: string, ...clone: string[]) => shellRunner(shell, 'Executing "get_sources" stage of the job script', 'Fetching changes with git depth set to 20...', ...clone, "error: unable to unlink old 'bin/app.dll': Permission denied")
  it('F29: a cmd shell runner is a Windows runner (the banner names it even without a drive-letter clone line)', () => {
    expect(cats(denied('cmd'))[0]).toBe('git_worktree_corrupt')
  })
  it('F30: pwsh on a Linux shell runner is not Windows (the clone is under /home)', () => {
    expect(cats(denied('pwsh', 'Reinitialized existing Git repository in /home/gitlab-runner/builds/acme/app/.git/'))[0]).toBe(cats(denied('bash', 'Reinitialized existing Git repository in /home/gitlab-runner/builds/acme/app/.git/'))[0])
  })
  it('guard: a Windows clone path keeps the held-open reading', () => {
    expect(cats(denied('powershell', 'Reinitialized existing Git repository in C:/GitLab-Runner/builds/acme/app/.git/'))[0]).toBe('git_worktree_corrupt')
  })
})
