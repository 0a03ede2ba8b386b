import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { GlrunErrors } from '../diagnostics/errors.js'
import { parseRunnerConfig } from './load.js'

const errorsOf = (text: string): { code: string; message: string; line?: number; col?: number; hint?: string }[] => {
  try {
    parseRunnerConfig(text, 'config.toml')
  } catch (e) {
    if (e instanceof GlrunErrors) return e.errors.map((x) => ({ code: x.code, message: x.message, line: x.where?.line, col: x.where?.col, ...(x.hint ? { hint: x.hint } : {}) }))
    if (e instanceof Error && 'code' in e) return [{ code: (e as { code: string }).code, message: e.message, line: (e as { where?: { line: number } }).where?.line, col: (e as { where?: { col: number } }).where?.col }]
    throw e
  }
  return []
}

describe('config.toml', () => {
  it('loads the S4 scenario config', () => {
    const { config, warnings } = parseRunnerConfig(readFileSync(new URL('../../test/fixtures/scenarios/s4-config.toml', import.meta.url), 'utf8'), 's4-config.toml')
    expect(warnings).toEqual([])
    expect(config.runners).toHaveLength(1)
    expect(config.runners[0]).toMatchObject({ name: 'abcd', url: 'https://gitlab.bellship.com', executor: 'docker', docker: { image: 'alpine:latest', networkMode: 'host' } })
  })

  it('reads the S1 Helm chart runners.config with host_aliases', () => {
    const values = parseYaml(readFileSync(new URL('../../test/fixtures/scenarios/s1-helm-values.yaml', import.meta.url), 'utf8')) as { runners: { config: string } }
    const { config, warnings } = parseRunnerConfig(values.runners.config, 'runners.config')
    expect(warnings).toEqual([])
    expect(config.runners[0]!.kubernetes).toMatchObject({ namespace: 'cicd', image: 'docker:19.03.13', hostAliases: [{ ip: '10.0.0.232', hostnames: ['gitlab.mylab.com', 'minio.mylab.com', 'registry.mylab.com'] }] })
  })

  it('maps every docker key glrun uses; pull_policy as a string or a list', () => {
    const text = `concurrent = 4
[[runners]]
  name = "full"
  url = "https://gitlab.example.com"
  token = "glrt-x"
  executor = "docker"
  environment = ["A=1", "B=2"]
  pre_get_sources_script = "echo pre"
  post_get_sources_script = "echo post"
  pre_build_script = "echo before"
  post_build_script = "echo after"
  tls-ca-file = "/etc/gitlab-runner/certs/ca.crt"
  [runners.feature_flags]
    FF_NETWORK_PER_BUILD = true
  [runners.docker]
    host = "unix:///run/docker.sock"
    tls_verify = false
    image = "alpine:3"
    privileged = true
    network_mode = "ci"
    extra_hosts = ["gitlab.example.com:10.0.0.2"]
    dns = ["10.0.0.53"]
    dns_search = ["corp"]
    volumes = ["/cache", "/certs/client"]
    pull_policy = "if-not-present"
    allowed_pull_policies = ["if-not-present", "always"]
    allowed_images = ["alpine:*"]
    allowed_services = ["postgres:*"]
    helper_image = "my/helper:1"
    wait_for_services_timeout = 5
    memory = "512m"
    cpus = "1.5"
    cap_add = ["NET_ADMIN"]
    cap_drop = ["NET_RAW"]
    shm_size = 1024
    user = "1000"
    disable_cache = true
    [[runners.docker.services]]
      name = "postgres:16"
      alias = "db"
      environment = ["POSTGRES_PASSWORD=x"]
`
    const { config, warnings } = parseRunnerConfig(text, 'c.toml')
    expect(warnings).toEqual([])
    expect(config.concurrent).toBe(4)
    const r = config.runners[0]!
    expect(r).toMatchObject({ environment: ['A=1', 'B=2'], preGetSourcesScript: 'echo pre', postBuildScript: 'echo after', tlsCaFile: '/etc/gitlab-runner/certs/ca.crt', featureFlags: { FF_NETWORK_PER_BUILD: true } })
    expect(r.docker).toMatchObject({ host: 'unix:///run/docker.sock', image: 'alpine:3', privileged: true, networkMode: 'ci', extraHosts: ['gitlab.example.com:10.0.0.2'], pullPolicy: ['if-not-present'], allowedPullPolicies: ['if-not-present', 'always'], waitForServicesTimeout: 5, shmSize: 1024, services: [{ name: 'postgres:16', alias: 'db', environment: ['POSTGRES_PASSWORD=x'] }] })
  })

  it('warns about a misspelt key at its line and column, with a did-you-mean', () => {
    const { warnings } = parseRunnerConfig('[[runners]]\n  executor = "docker"\n  [runners.docker]\n    imagee = "alpine"\n', 'c.toml')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ code: 'GLRUN_CONFIG_UNKNOWN_KEY', severity: 'warning', hint: 'Did you mean "image"?', where: { file: 'c.toml', line: 4, col: 5 } })
    expect(warnings[0]!.message).toContain('runners.docker.imagee')
  })

  it('reports every wrong type and value at once, each at its place', () => {
    const errs = errorsOf(`concurrent = "4"
[[runners]]
  executor = "dokcer"
  [runners.docker]
    privileged = "yes"
    extra_hosts = "gitlab:1.2.3.4"
    pull_policy = ["always", "sometimes"]
[[runners]]
  executor = "kubernetes"
  [runners.kubernetes]
    dns_policy = "cluster"
`)
    expect(errs.map((e) => [e.code, e.line])).toEqual([
      ['GLRUN_CONFIG_TYPE', 1], ['GLRUN_CONFIG_TYPE', 5], ['GLRUN_CONFIG_TYPE', 6],
      ['GLRUN_CONFIG_VALUE', 3], ['GLRUN_CONFIG_VALUE', 7], ['GLRUN_CONFIG_VALUE', 11],
    ])
    expect(errs[3]!.hint).toBe('Did you mean "docker"?')
    expect(errs[4]!.message).toBe('unsupported pull_policy config: "sometimes"')
    expect(errs[1]!.message).toBe('runners.docker.privileged must be true or false, not the string "yes"')
  })

  it('compiles the *_overwrite_allowed regular expressions as gitlab-runner does (RE2), at their place', () => {
    const errs = errorsOf('[[runners]]\n  executor = "kubernetes"\n  [runners.kubernetes]\n    namespace_overwrite_allowed = "ci-(?!prod).*"\n    service_account_overwrite_allowed = "ci-.*"\n    pod_labels_overwrite_allowed = "[a-z"\n')
    expect(errs.map((e) => [e.code, e.line])).toEqual([['GLRUN_CONFIG_VALUE', 4], ['GLRUN_CONFIG_VALUE', 6]])
    expect(errs[0]!.message).toContain('namespace_overwrite_allowed "ci-(?!prod).*" is not a valid regular expression')
    expect(errs[0]!.hint).toContain('RE2')
    // Valid ones and empty ones (no overwrite allowed) pass.
    expect(errorsOf('[[runners]]\n  [runners.kubernetes]\n    namespace_overwrite_allowed = "ci-.*"\n    node_selector_overwrite_allowed = ""\n')).toEqual([])
  })

  it('checks extra_hosts entries and concurrent', () => {
    expect(errorsOf('concurrent = 0\n').map((e) => e.message)).toEqual(["Current configuration 'concurrent = 0' means that no jobs will be processed"])
    expect(errorsOf('[[runners]]\n[runners.docker]\nextra_hosts = ["gitlab.example.com"]\n')[0]).toMatchObject({ code: 'GLRUN_CONFIG_VALUE', line: 3 })
  })

  it('takes the old pre_clone_script with a deprecation warning', () => {
    const { config, warnings } = parseRunnerConfig('[[runners]]\n  pre_clone_script = "echo 10.0.0.2 gitlab >> /etc/hosts"\n', 'c.toml')
    expect(config.runners[0]!.preGetSourcesScript).toBe('echo 10.0.0.2 gitlab >> /etc/hosts')
    expect(warnings[0]).toMatchObject({ code: 'GLRUN_CONFIG_DEPRECATED', where: { line: 2, col: 3 } })
  })

  it('gives a TOML syntax error with its position', () => {
    expect(errorsOf('[[runners]]\n  name = "x\n')[0]).toMatchObject({ code: 'GLRUN_CONFIG_SYNTAX', line: 2 })
  })

  it('expands $VARS in url and token from the environment, as gitlab-runner does', () => {
    process.env.GLRUN_TEST_URL = 'https://gitlab.test'
    const { config } = parseRunnerConfig('[[runners]]\n  url = "$GLRUN_TEST_URL"\n  token = "${GLRUN_TEST_URL}/t"\n', 'c.toml')
    expect(config.runners[0]).toMatchObject({ url: 'https://gitlab.test', token: 'https://gitlab.test/t' })
  })

  it('accepts a real runner config with keys glrun does not use, silently', () => {
    const { warnings } = parseRunnerConfig(`concurrent = 10
check_interval = 0
shutdown_timeout = 0
[session_server]
  session_timeout = 1800
[[runners]]
  name = "k8s"
  url = "https://gitlab.example.com"
  id = 12
  token = "glrt-x"
  token_obtained_at = 2024-01-01T00:00:00Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "kubernetes"
  [runners.cache]
    MaxUploadedArchiveSize = 0
    [runners.cache.s3]
    [runners.cache.gcs]
  [runners.kubernetes]
    host = ""
    bearer_token_overwrite_allowed = false
    namespace = "gitlab"
    poll_timeout = 600
    [runners.kubernetes.pod_security_context]
    [runners.kubernetes.volumes]
    [runners.kubernetes.dns_config]
`, 'c.toml')
    expect(warnings).toEqual([])
  })
})

describe('config.toml: request_concurrency and the unhealthy limits', () => {
  const runner = (keys: string): Record<string, unknown> => parseRunnerConfig(`[[runners]]\n  name = "r"\n  url = "https://gitlab.example.com"\n  token = "glrt-x"\n  executor = "shell"\n${keys}`, 'config.toml').config.runners[0] as unknown as Record<string, unknown>

  it("gitlab-runner's defaults: 1 request at a time, 3 unhealthy requests, 1 h; below 1 means the default", () => {
    expect(runner('')).toMatchObject({ requestConcurrency: 1, unhealthyRequestsLimit: 3, unhealthyIntervalMs: 3_600_000 })
    expect(runner('  request_concurrency = 0\n  unhealthy_requests_limit = 0\n')).toMatchObject({ requestConcurrency: 1, unhealthyRequestsLimit: 3 })
  })

  it('unhealthy_interval is a Go duration; an integer is nanoseconds, as Go decodes a time.Duration', () => {
    expect(runner('  request_concurrency = 4\n  unhealthy_requests_limit = 5\n  unhealthy_interval = "1h30m"\n')).toMatchObject({ requestConcurrency: 4, unhealthyRequestsLimit: 5, unhealthyIntervalMs: 5_400_000 })
    expect(runner('  unhealthy_interval = "90s"\n')).toMatchObject({ unhealthyIntervalMs: 90_000 })
    expect(runner('  unhealthy_interval = "1.5s"\n')).toMatchObject({ unhealthyIntervalMs: 1500 })
    expect(runner('  unhealthy_interval = 2000000000\n')).toMatchObject({ unhealthyIntervalMs: 2000 })
  })

  it('an unhealthy_interval that is not a duration is an error at its line', () => {
    expect(errorsOf('[[runners]]\n  name = "r"\n  unhealthy_interval = "1h30min"\n')).toEqual([expect.objectContaining({ code: 'GLRUN_CONFIG_VALUE', line: 3, message: 'unhealthy_interval the string "1h30min" is not a duration' })])
  })
})
