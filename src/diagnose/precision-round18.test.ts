import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, on, step, top } from '../../test/support/diagnose-log.js'
import { RULES } from './engine.js'
import { parseTrace } from './trace.js'

// Review rv15 of rv14's mends (64bbee9) and the two reread mends (e76f99d, 2739438; the second reverted for it), mended after. Each "F<n>" case failed on
// 2739438 and states the behaviour expected; "guard:" cases hold now and must keep holding when the finding is mended.

const log = (...lines: string[]): string => lines.join('\n')
// Where an instance-executor job's software, users and devices come from: the VM image the autoscaler boots.
const VM_IMAGE = /\bVM image\b|\bAMI\b|instance template|machine image|image (?:the|of the) (?:autoscaler|instances?)/i

describe('2739438: the instance executor in the shell family — advice written for the shell executor', () => {
  it('F1: a tool missing on an instance-executor VM is the VM image\'s, not the runner user\'s login-shell PATH (the instance executor runs a plain bash over SSH, as the connector\'s user)', () => {
    const d = top(on('instance', '$ terraform plan', 'bash: line 3: terraform: command not found'))
    expect(d?.category).toBe('command_not_found')
    expect(all(d)).not.toMatch(/login shell|sudo -iu gitlab-runner/)
    expect(all(d)).toMatch(VM_IMAGE)
  })
  it('guard: the shell executor keeps its login-shell advice', () => {
    expect(all(top(on('shell', '$ terraform plan', 'bash: line 3: terraform: command not found')))).toMatch(/login shell/)
  })
  it('F2: the Docker socket refused on an instance VM: the connector\'s user joins the docker group in the VM image; there is no gitlab-runner service on the VM to restart', () => {
    const d = top(on('instance', '$ docker build -t app .', 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Post "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/build": dial unix /var/run/docker.sock: connect: permission denied'))
    expect(d?.category).toBe('permission_denied_non_root')
    expect(all(d)).not.toMatch(/gitlab-runner restart|usermod -aG docker gitlab-runner/)
    expect(all(d)).toMatch(VM_IMAGE)
  })
  it('guard: the shell executor keeps "usermod -aG docker gitlab-runner"', () => {
    expect(all(top(on('shell', '$ docker build -t app .', 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Post "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/build": dial unix /var/run/docker.sock: connect: permission denied')))).toMatch(/usermod -aG docker gitlab-runner/)
  })
  it('F3: apt-get as a non-root user on an instance VM: preinstall in the VM image, not a sudoers line for a gitlab-runner user the VM does not run as', () => {
    const d = top(on('instance', '$ apt-get install -y jq', 'E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)', 'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?'))
    expect(d?.category).toBe('permission_denied_non_root')
    expect(all(d)).not.toMatch(/gitlab-runner ALL=/)
    expect(all(d)).toMatch(VM_IMAGE)
  })
  it('F4: mount refused to a non-root user on an instance VM: not a sudoers file for gitlab-runner, nor "the runner user"', () => {
    const d = top(on('instance', '$ mount -o loop disk.img /mnt', 'mount: /mnt: must be superuser to use mount.'))
    expect(d?.category).toBe('unprivileged_container_build')
    expect(all(d)).not.toMatch(/sudoers\.d\/gitlab-runner|gitlab-runner ALL=|\(the runner user\)/)
  })
  it('F5: /dev/kvm missing on an instance VM: an instance type with nested virtualisation (or bare metal), not usermod + restarting a gitlab-runner service the VM does not have', () => {
    const d = top(on('instance', '$ ./emulator -avd test', 'ERROR: x86 emulation currently requires hardware acceleration!', 'CPU acceleration status: /dev/kvm is not found: VT feature disabled in BIOS/UEFI'))
    expect(d?.category).toBe('container_device_unavailable')
    expect(all(d)).not.toMatch(/systemctl restart gitlab-runner|usermod -aG kvm gitlab-runner/)
    expect(all(d)).toMatch(/instance type|metal/i)
  })
  it('F6: no GPU on an instance VM: a GPU instance type and a driver in the VM image, not the runner host (the manager) nor "sudo -u gitlab-runner"', () => {
    const d = top(on('instance', '$ nvidia-smi', 'bash: line 120: nvidia-smi: command not found'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(all(d)).not.toMatch(/sudo -u gitlab-runner|on the runner host/)
    expect(all(d)).toMatch(/instance type|VM image|AMI/i)
  })
  it('guard: the shell executor keeps the runner host\'s driver', () => {
    expect(all(top(on('shell', '$ nvidia-smi', 'bash: line 120: nvidia-smi: command not found')))).toMatch(/runner host/)
  })
  it('F7: a stopped Docker daemon on an instance VM is the VM\'s, not "the runner host\'s", and no runner container mounts its socket', () => {
    const d = top(on('instance', '$ docker info', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'))
    expect(d?.category).toBe('docker_engine_broken')
    expect(d?.title).not.toMatch(/runner host/)
    expect(all(d)).not.toMatch(/Runner in a container|sudo -u gitlab-runner docker info/)
  })
  it('F8: the instance executor runs bash without --login as the connector\'s user: a failed cd after preparation is not ~gitlab-runner/.bash_logout of a login shell', () => {
    const d = top(log('Preparing the "instance" executor', 'Dialing remote instance...', 'Preparing environment', 'Running on ip-10-0-1-12 via runner-manager...',
      'bash: line 132: cd: /home/ubuntu/builds/abc/0/acme/app: No such file or directory', 'ERROR: Job failed: exit status 1'))
    expect(all(d)).not.toMatch(/~gitlab-runner|sudo -u gitlab-runner|starts a login shell/)
  })
  it('F9: the instance executor refuses shells that need a script file (cmd), so an unexpanded $VAR there is not Windows\' cmd', () => {
    expect(cats(on('instance', '$ git merge $CI_BUILD_REF --no-commit', 'merge: $CI_BUILD_REF - not something we can merge'))).not.toContain('shell_mismatch')
  })
  it('guard: a shell runner without a banner naming its shell can still be cmd', () => {
    expect(cats(on('shell', '$ git merge $CI_BUILD_REF --no-commit', 'merge: $CI_BUILD_REF - not something we can merge'))[0]).toBe('shell_mismatch')
  })
})

describe('e76f99d: detached-head.ts with Scan.wentPast', () => {
  it('F10: a detached-HEAD refusal inside after_script cannot have failed the job (the tests did)', () => {
    const c = cats(log('Preparing the "docker" executor', 'Executing "step_script" stage of the job script', '$ npm test', 'AssertionError: expected 1 to equal 2',
      'Running after_script', 'Running after script...', '$ git push origin HEAD:refs/heads/reports', 'fatal: You are not currently on a branch.', 'ERROR: Job failed: exit code 1'))
    expect(c[0]).not.toBe('git_detached_head')
  })
  it('guard: the same refusal ending the script stays the answer with after_script commands after it', () => {
    expect(cats(log('Executing "step_script" stage of the job script', '$ git push origin HEAD:main', 'fatal: You are not currently on a branch.',
      'Running after_script', 'Running after script...', '$ echo cleanup', 'cleanup', 'ERROR: Job failed: exit code 1'))[0]).toBe('git_detached_head')
  })
})

describe('64bbee9: gpu.ts', () => {
  it('F11: TensorFlow\'s logged "failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected" (it falls back to the CPU) is not why a test failed', () => {
    const c = cats(on('docker', '$ pytest tests/',
      '2024-05-01 10:00:00.123456: E external/local_xla/xla/stream_executor/cuda/cuda_driver.cc:282] failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected',
      'FAILED tests/test_model.py::test_loss - AssertionError: assert 0.52 < 0.5', '==== 1 failed, 12 passed in 3.21s ===='))
    expect(c[0]).not.toBe('gpu_unavailable_in_job')
  })
  it('guard: CUDA\'s raised "no CUDA-capable device is detected" stays the answer', () => {
    expect(cats(on('docker', '$ python train.py', 'RuntimeError: CUDA error: no CUDA-capable device is detected'))[0]).toBe('gpu_unavailable_in_job')
  })
  it('F12: a project script\'s own nvidia-smi probe that it went on from (CPU fallback) is not why its later assertion failed', () => {
    const c = cats(on('docker', '$ ./scripts/train.sh', './scripts/train.sh: line 3: nvidia-smi: command not found', 'No GPU found, training on CPU', 'epoch 1/1 loss=0.71',
      'Traceback (most recent call last):', '  File "train.py", line 40, in <module>', 'AssertionError: loss 0.71 above threshold 0.5'))
    expect(c[0]).not.toBe('gpu_unavailable_in_job')
  })
  it('F13: the script\'s own "docker run --runtime=nvidia" is not the runner\'s runtime = "nvidia"', () => {
    const d = top(on('shell', '$ docker run --rm --runtime=nvidia nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi', 'docker: Error response from daemon: unknown or invalid runtime name: nvidia.'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(all(d)).not.toMatch(/The runner asks for the "nvidia" runtime/)
    expect(all(d)).toMatch(/--runtime[= ]nvidia|--gpus/)
  })
  it('guard: the runner\'s own runtime = "nvidia" (a system failure) keeps the config.toml wording', () => {
    expect(all(top(log('Preparing the "docker" executor', 'ERROR: Job failed (system failure): Error response from daemon: unknown or invalid runtime name: nvidia (docker.go:958:0s)')))).toMatch(/runtime = "nvidia"/)
  })
  it('F14: the runner\'s own daemon refusing the nvidia runtime before any script is not the dind service\'s, even when the job declares one', () => {
    const d = top(log('Running with gitlab-runner 17.5.0 (c6eae8ea)', 'Preparing the "docker" executor', 'Using Docker executor with image docker:24 ...', 'Starting service docker:24-dind ...',
      'ERROR: Job failed (system failure): Error response from daemon: unknown or invalid runtime name: nvidia (docker.go:958:0s)'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(d?.title).not.toMatch(/dind/)
  })
  it('F15: NVML\'s "Driver/library version mismatch" is a driver upgraded without a reboot on a GPU host, not GPUs not handed in', () => {
    const d = top(on('docker', '$ nvidia-smi', 'Failed to initialize NVML: Driver/library version mismatch'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(all(d)).toMatch(/reboot|reload the (?:kernel )?module|rmmod/i)
  })
  it('F16: NVML\'s "Unknown Error" in a container is the device lost after a systemd reload (NVIDIA\'s notice), not a runner without gpus = "all"', () => {
    const d = top(on('docker', '$ nvidia-smi', 'Failed to initialize NVML: Unknown Error'))
    expect(d?.category).toBe('gpu_unavailable_in_job')
    expect(all(d)).toMatch(/daemon-reload|create-dev-char-symlinks|\/dev\/char|cgroup/i)
  })
})

describe('64bbee9: testcontainers.ts', () => {
  it('F17: "Failed to connect to Reaper" from a REAPER (the audio workstation) integration is the app\'s own error, not Testcontainers\' Ryuk', () => {
    const c = cats(on('docker', '$ pytest tests/integration', 'E   ConnectionError: Failed to connect to Reaper. Make sure Reaper is running prior to opening this GUI.', 'FAILED tests/integration/test_cues.py::test_connect', '==== 1 failed in 0.42s ===='))
    expect(c[0]).not.toBe('testcontainers_ryuk_unreachable')
  })
  it('guard: testcontainers-node\'s bare "Error: Failed to connect to Reaper" stays the answer', () => {
    expect(cats(on('docker', '$ npm test', 'Error: Failed to connect to Reaper', '    at /builds/acme/app/node_modules/testcontainers/build/reaper/reaper.js:92:20'))[0]).toBe('testcontainers_ryuk_unreachable')
  })
})

describe('64bbee9: gitlab-api-token.ts', () => {
  it('F18: /api/v4/ is also Mattermost\'s API: a 401 for chat.example.com/api/v4/posts is not a GitLab token', () => {
    const c = cats(on('docker', '$ java -jar notify.jar', 'Exception in thread "main" java.io.IOException: Server returned HTTP response code: 401 for URL: https://chat.example.com/api/v4/posts'))
    expect(c[0]).not.toBe('gitlab_api_token_invalid')
  })
  it('F19: the plugin\'s "no project id" in after_script (the job failed on its tests) is not the answer, as refused() already holds for after_script', () => {
    const c = cats(log('Preparing the "docker" executor', 'Executing "step_script" stage of the job script', '$ mvn test', '[ERROR] Tests run: 3, Failures: 1',
      'Running after_script', 'Running after script...', '$ sonar-scanner', 'ERROR: Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder',
      'ERROR: Caused by: Unable found project for null project name. Set Configuration sonar.gitlab.project_id', 'ERROR: Job failed: exit code 1'))
    expect(c[0]).not.toBe('gitlab_api_token_invalid')
  })
  it('guard: the same error in the script stays the answer', () => {
    expect(cats(on('docker', '$ sonar-scanner', 'ERROR: Failed to execute project builder: com.talanlabs.sonar.plugins.gitlab.CommitProjectBuilder',
      'ERROR: Caused by: Unable found project for null project name. Set Configuration sonar.gitlab.project_id'))[0]).toBe('gitlab_api_token_invalid')
  })
})

describe('64bbee9: cloud-endpoints.ts', () => {
  it('F20: "us-east1" (Google Cloud\'s region spelling) in an AWS endpoint is named as not an AWS region', () => {
    const d = top(on('docker', '$ aws sts get-caller-identity', 'Could not connect to the endpoint URL: "https://sts.us-east1.amazonaws.com/"'))
    expect(d?.category).toBe('dns_resolution_failure')
    expect(`${d?.cause ?? ''}\n${d?.fixes[0]?.text ?? ''}`).toMatch(/"us-east1"/)
  })
  it('guard: a real region is not questioned', () => {
    expect(all(top(on('docker', '$ aws sts get-caller-identity', 'Could not connect to the endpoint URL: "https://sts.ap-east-2.amazonaws.com/"')))).not.toMatch(/not an AWS region/)
  })
})

describe('64bbee9: rate-limits.ts (GitHub\'s message anchored)', () => {
  it('F21: Octokit\'s HttpError (semantic-release, release scripts) carries GitHub\'s message after "HttpError: "', () => {
    expect(cats(on('docker', '$ npx semantic-release', 'HttpError: API rate limit exceeded for 203.0.113.7. (But here\'s the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)'))[0]).toBe('registry_rate_limited')
    expect(cats(on('docker', '$ node release.js', 'RequestError [HttpError]: API rate limit exceeded for installation ID 1234.'))[0]).toBe('registry_rate_limited')
  })
  it('F22: go-github\'s wording ("GET <url>: 403 API rate limit exceeded for … [rate reset in …]")', () => {
    expect(cats(on('docker', '$ go run ./cmd/release', 'GET https://api.github.com/repos/acme/app/releases: 403 API rate limit exceeded for 203.0.113.7. [rate reset in 41m12s]'))[0]).toBe('registry_rate_limited')
  })
  it('guard: gh\'s "HTTP 403: API rate limit exceeded" stays the answer', () => {
    expect(cats(on('docker', '$ gh release view v1.2.0', 'HTTP 403: API rate limit exceeded for 203.0.113.7. (https://api.github.com/repos/acme/app/releases/tags/v1.2.0)'))[0]).toBe('registry_rate_limited')
  })
  it('guard: a test printing the phrase mid-sentence is not the job throttled', () => {
    expect(cats(step('$ npm test', '  ✗ shows "API rate limit exceeded for user" when the mock returns 403', 'AssertionError: expected banner to be visible'))[0]).not.toBe('registry_rate_limited')
  })
})

describe('64bbee9: cost of "not past a skipped command" on every hit', () => {
  // A line repeated through a long log (a GPU monitor loop, a retrying test suite) is a hit each time, and
  // Scan.wentPast reads the whole log for each: quadratic. Only the last usable hit matters.
  const job = (k: number, body: (i: number) => string[]): string => ['Preparing the "docker" executor', 'Executing "step_script" stage of the job script', '$ ./ci.sh',
    ...Array.from({ length: sized(2000, k) }, (_, i) => body(i)).flat(), 'ERROR: Job failed: exit code 1'].join('\n')
  // The rule alone, on a trace read before the clock starts: timed inside the whole engine, a rule's
  // quadratic part hides under every other rule's linear work (and the reader's own cost has its own
  // guard, trace-cost.test.ts). A new Evidence per call: Scan.of keeps its work per Evidence. 2,000 hits
  // at most: from about 8,000 lines up, the arrays a Scan builds outgrow the CPU's caches and even a
  // plain filter over them grows 5-7x from a quarter to all (measured), while rescanning the log for
  // each hit grows 16x at any size.
  const ruleOn = (id: string, log: string): (() => void) => {
    const rule = RULES.find((r) => r.id === id)
    expect(rule, id).toBeDefined()
    const trace = parseTrace(log)
    return () => rule?.match({ trace })
  }
  it('F23: gpu.ts and testcontainers.ts grow linearly with the number of repeated hits (2,000 repeated lines)', () => {
    expectLinear((k) => ruleOn('gpu', job(k, (i) => [`step ${i} loss=0.5`, 'Failed to initialize NVML: Unknown Error'])), 'NVML')
    expectLinear((k) => ruleOn('testcontainers', job(k, (i) => [`test ${i}`, 'java.lang.IllegalStateException: Could not connect to Ryuk at 172.17.0.1:32768'])), 'Ryuk')
  }, 120000)
})
