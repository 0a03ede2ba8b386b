import { describe, expect, it } from 'vitest'
import { cats, step, top, withServices } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

// The twenty-second rule pass (batch 22's dev entries, the first with the job's .gitlab-ci.yml): an
// ENTRYPOINT handed the runner's shell or its detection script, an entrypoint override the YAML names,
// client-go without a kubeconfig, LibGit2Sharp in a shallow clone, a Swarm deploy against dind, and an
// artifact the YAML lists that is not there.

const withCi = (log: string, ciYaml: string) => diagnose({ trace: parseTrace(log), ciYaml }).diagnoses

describe('image.ts: a tool ENTRYPOINT handed the runner\'s shell', () => {
  it('argparse\'s "invalid choice: \'sh\'"', () => {
    expect(top("reuse: error: invalid choice: 'sh' (choose from 'addheader', 'download', 'init', 'lint', 'spdx')")?.category).toBe('image_entrypoint_override')
  })
  it('TestCafe taking "sh" for a browser', () => {
    expect(top('ERROR Unable to find the browser. "sh" is not a browser alias or path to an executable file.')?.category).toBe('image_entrypoint_override')
  })
  it('the runner\'s shell-detection script quoted back as a file name', () => {
    expect(top(['Running before_script and script', 'Traceback (most recent call last):', '  File "/usr/lib/python3.8/site-packages/yamllint/config.py", line 39, in __init__', '    with open(file) as f:', "FileNotFoundError: [Errno 2] No such file or directory: 'if [ -x /usr/local/bin/bash ]; then\\n\\texec /usr/local/bin/bash \\nelif [ -x /usr/bin/bash ]; then\\n'"].join('\n'))?.category).toBe('image_entrypoint_override')
  })
})

describe('--ci: the entrypoint the job\'s YAML sets', () => {
  it('an override naming a shell the rebuilt image lacks', () => {
    const d = withCi('ERROR: Job failed (system failure): Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/bin/ash": stat /bin/ash: no such file or directory: unknown',
      'codesniffer:\n  image:\n    name: cytopia/phpcs:3\n    entrypoint: [ "/bin/ash", "-c" ]\n  script:\n    - phpcs\n')[0]
    expect(d?.category).toBe('image_missing_shell')
    expect(d?.title).toContain('entrypoint')
  })
  it('an override whose shell refuses the runner\'s script ranks above a shell mismatch', () => {
    const d = withCi('sh: 3: set: Illegal option -o pipefail', 'deploy:\n  image:\n    name: bitnami/kubectl:1.18\n    entrypoint: [ "/bin/bash", "-l", "-c" ]\n  script:\n    - ls\n')
    expect(d[0]?.category).toBe('image_entrypoint_override')
    expect(d.map((x) => x.category)).toContain('shell_mismatch')
  })
  it('guard: without the YAML the same line stays a shell mismatch', () => {
    expect(top('sh: 3: set: Illegal option -o pipefail')?.category).toBe('shell_mismatch')
  })
  it('an artifact path the YAML lists that the next job cannot find', () => {
    const d = withCi(step('$ terraform apply -input=false -auto-approve "plan.tfplan"', 'stat plan.tfplan: no such file or directory'),
      'plan:\n  script:\n    - cd terraform\n    - terraform plan -out=plan.tfplan\n  artifacts:\n    paths:\n      - plan.tfplan\napply:\n  script:\n    - terraform apply plan.tfplan\n')[0]
    expect(d?.category).toBe('artifacts_no_matching_files')
    expect(d?.cause).toContain('plan.tfplan')
  })
  it('guard: a glob in artifacts:paths names no file', () => {
    expect(withCi(step('$ cat report.xml', 'cat: report.xml: No such file or directory'), 'test:\n  artifacts:\n    paths:\n      - "*.xml"\n').map((x) => x.category)).not.toContain('artifacts_no_matching_files')
  })
})

describe('kubernetes.ts, host.ts, ci-hypotheses.ts', () => {
  it('client-go without a kubeconfig in a script\'s tool', () => {
    expect(top(step('$ chart-verifier verify ./chart', '{"check":"v1.0/chart-testing","type":"Mandatory","outcome":"FAIL","reason":"invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable"}'))?.category).toBe('script_kubeconfig_missing')
  })
  it('guard: the runner\'s own words stay kubernetes_config_missing', () => {
    expect(top('ERROR: Preparation failed: getting Kubernetes config: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable')?.category).toBe('kubernetes_config_missing')
  })
  it('LibGit2Sharp missing an object in the shallow checkout', () => {
    expect(top(step('$ versionize', 'Error: LibGit2Sharp.NotFoundException', 'LibGit2Sharp.NotFoundException: object not found - no match for id (ff1a6a984a775d514190534b8ffe0e9f0dbf1641)'))?.category).toBe('shallow_clone_missing_ref')
  })
  it('docker stack deploy against the dind service', () => {
    expect(top(withServices(['docker:24-dind'], '$ docker stack deploy -c docker-compose.yml app', 'this node is not a swarm manager. Use "docker swarm init" or "docker swarm join"'))?.category).toBe('dind_docker_host_wrong')
  })
  it('guard: without dind it is not a DOCKER_HOST answer', () => {
    expect(cats(step('$ docker stack deploy -c docker-compose.yml app', 'this node is not a swarm manager. Use "docker swarm init" or "docker swarm join"'))).not.toContain('dind_docker_host_wrong')
  })
})
